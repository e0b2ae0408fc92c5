//! The host functions the runtime links are exactly the compiler's `IMPORTS`: same names,
//! same signatures, nothing more.

use crate::runtime;
use crate::wasm::Builder;
use wasmtime::{Extern, ValType};
use weft_compiler::imports::{self, IMPORTS, MODULE};
use weft_runtime::{Output, RunLimits};

fn same(a: &ValType, b: &imports::ValType) -> bool {
    matches!(
        (a, b),
        (ValType::I32, imports::ValType::I32)
            | (ValType::I64, imports::ValType::I64)
            | (ValType::F64, imports::ValType::F64)
    )
}

#[test]
fn every_import_has_the_compilers_signature() {
    let rt = runtime();
    let mut store = rt.store(&Output::buffer(), &RunLimits::default());
    for sig in IMPORTS {
        let func = match rt.linker().get(&mut store, MODULE, sig.name) {
            Ok(Extern::Func(f)) => f,
            Ok(_) => panic!(
                "`{}` is linked as something other than a function",
                sig.name
            ),
            Err(e) => panic!("`{}` is not linked: {e}", sig.name),
        };
        let ty = func.ty(&store);
        let params: Vec<ValType> = ty.params().collect();
        let results: Vec<ValType> = ty.results().collect();
        let ok = params.len() == sig.params.len()
            && results.len() == sig.results.len()
            && params.iter().zip(sig.params).all(|(a, b)| same(a, b))
            && results.iter().zip(sig.results).all(|(a, b)| same(a, b));
        assert!(
            ok,
            "`{}`: linked as {params:?} -> {results:?}, compiler says {sig:?}",
            sig.name
        );
    }
}

#[test]
fn nothing_is_linked_beyond_the_imports() {
    let rt = runtime();
    let mut store = rt.store(&Output::buffer(), &RunLimits::default());
    let names: Vec<(String, String)> = rt
        .linker()
        .iter(&mut store)
        .map(|(m, n, _)| (m.to_string(), n.to_string()))
        .collect();
    for (module, name) in &names {
        assert_eq!(module, MODULE);
        assert!(
            IMPORTS.iter().any(|i| i.name == name),
            "`{name}` is linked but not in IMPORTS"
        );
    }
    assert_eq!(names.len(), IMPORTS.len());
}

#[test]
fn a_module_importing_everything_links() {
    let artifact = Builder::new().export("main", |_| {}).artifact();
    if let Err(e) = runtime().load(&artifact) {
        panic!("{e}");
    }
}
