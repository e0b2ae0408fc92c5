//! Prints the diagnostics of a file (a development aid for the front end).
fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let fe = weft_lang::check_file(&path, &text, &weft_lang::NoFiles);
    print!("{}", weft_lang::diagnostic::render_all(&fe.diagnostics, &fe.sources));
}
