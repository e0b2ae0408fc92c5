//! A small line diff for readable expectation mismatches: `-` expected, `+` actual, with
//! three lines of context around each change.

const CONTEXT_LINES: usize = 3;
/// Above this many cells the LCS table is not built; both texts are shown whole instead.
const TABLE_CELLS_MAX: usize = 4_000_000;

#[derive(Debug, PartialEq)]
enum Op<'a> {
    Same(&'a str),
    Del(&'a str),
    Add(&'a str),
}

fn ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Op<'a>> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(Op::Same(a[i]));
            i += 1;
            j += 1;
        } else if lcs[at(i + 1, j)] >= lcs[at(i, j + 1)] {
            out.push(Op::Del(a[i]));
            i += 1;
        } else {
            out.push(Op::Add(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| Op::Del(l)));
    out.extend(b[j..].iter().map(|l| Op::Add(l)));
    out
}

/// The differences between `expected` and `actual`, ready to print.
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    if (a.len() + 1) * (b.len() + 1) > TABLE_CELLS_MAX {
        return format!("expected:\n{expected}\nactual:\n{actual}\n");
    }
    let ops = ops(&a, &b);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(_)))
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= CONTEXT_LINES);
    let mut out = String::new();
    let mut skipped = false;
    for (i, op) in ops.iter().enumerate() {
        if !near(i) {
            skipped = true;
            continue;
        }
        if skipped {
            out.push_str("   ...\n");
            skipped = false;
        }
        let (mark, line) = match op {
            Op::Same(l) => (' ', l),
            Op::Del(l) => ('-', l),
            Op::Add(l) => ('+', l),
        };
        out.push_str(&format!(" {mark} {line}\n"));
    }
    if changed.is_empty() {
        // Same lines, so the difference is in line endings or a final newline.
        out.push_str(&format!(
            "   (only whitespace differs: expected {expected:?}, actual {actual:?})\n"
        ));
    }
    out
}

#[test]
fn diff_marks_changes() {
    let d = diff("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(d, "   a\n - b\n + x\n   c\n");
    assert!(diff("a\n", "a").contains("only whitespace"));
}
