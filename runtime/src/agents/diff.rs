//! The shortest edit script between two lists (Myers' O((N+M)D) algorithm), so a list
//! lane's links see a push as one insert and a drop from the front as one remove, not a
//! rewrite of every element.

/// One step of an edit script, walking both lists from the front.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The next elements of both lists are equal.
    Keep,
    /// The next element of the old list is gone.
    Delete,
    /// The new list's element at this index comes next.
    Insert(usize),
}

/// The shortest edit script turning `a` into `b`, or `None` when it takes more than
/// `d_max` insertions and deletions (time and memory grow with `d_max`).
pub fn diff<T: PartialEq>(a: &[T], b: &[T], d_max: usize) -> Option<Vec<Edit>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (a.len() + b.len()).min(d_max) as isize;
    let at = |k: isize| (k + max + 1) as usize;
    let mut v = vec![0isize; 2 * max as usize + 3];
    let mut trace: Vec<Vec<isize>> = vec![];
    for d in 0..=max {
        trace.push(v.clone());
        let mut k = -d;
        while k <= d {
            let mut x = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) {
                v[at(k + 1)]
            } else {
                v[at(k - 1)] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[at(k)] = x;
            if x >= n && y >= m {
                return Some(backtrack(&trace, n, m, at));
            }
            k += 2;
        }
    }
    None
}

fn backtrack(trace: &[Vec<isize>], n: isize, m: isize, at: impl Fn(isize) -> usize) -> Vec<Edit> {
    let mut edits = vec![];
    let (mut x, mut y) = (n, m);
    for (d, v) in trace.iter().enumerate().rev() {
        let d = d as isize;
        let k = x - y;
        let prev_k = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = v[at(prev_k)];
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            edits.push(Edit::Keep);
            x -= 1;
            y -= 1;
        }
        if d > 0 {
            if x == prev_x {
                edits.push(Edit::Insert((y - 1) as usize));
            } else {
                edits.push(Edit::Delete);
            }
        }
        x = prev_x;
        y = prev_y;
    }
    edits.reverse();
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies the script to `a`, checking it only takes what it says.
    fn apply(a: &[i32], b: &[i32], edits: &[Edit]) -> Vec<i32> {
        let (mut i, mut out) = (0, vec![]);
        for e in edits {
            match *e {
                Edit::Keep => {
                    out.push(a[i]);
                    i += 1;
                }
                Edit::Delete => i += 1,
                Edit::Insert(j) => out.push(b[j]),
            }
        }
        assert_eq!(i, a.len());
        out
    }

    fn edits(script: &[Edit]) -> usize {
        script.iter().filter(|e| **e != Edit::Keep).count()
    }

    #[test]
    fn a_push_and_a_drop_from_the_front_are_two_edits() {
        let a: Vec<i32> = (0..50).collect();
        let b: Vec<i32> = (1..51).collect();
        let s = diff(&a, &b, 100).unwrap();
        assert_eq!(edits(&s), 2);
        assert_eq!(s[0], Edit::Delete);
        assert_eq!(s[50], Edit::Insert(49));
        assert_eq!(apply(&a, &b, &s), b);
    }

    #[test]
    fn scripts_are_shortest_and_rebuild_the_new_list() {
        // Every pair of lists over a small alphabet, checked against an LCS by table.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as i32
        };
        for _ in 0..2000 {
            let a: Vec<i32> = (0..next() % 9).map(|_| next() % 3).collect();
            let b: Vec<i32> = (0..next() % 9).map(|_| next() % 3).collect();
            let s = diff(&a, &b, 100).unwrap();
            assert_eq!(apply(&a, &b, &s), b, "{a:?} -> {b:?}");
            let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
            for i in (0..a.len()).rev() {
                for j in (0..b.len()).rev() {
                    lcs[i][j] = if a[i] == b[j] {
                        lcs[i + 1][j + 1] + 1
                    } else {
                        lcs[i + 1][j].max(lcs[i][j + 1])
                    };
                }
            }
            assert_eq!(
                edits(&s),
                a.len() + b.len() - 2 * lcs[0][0],
                "{a:?} -> {b:?}"
            );
        }
    }

    #[test]
    fn too_many_edits_give_up() {
        let a: Vec<i32> = (0..100).collect();
        let b: Vec<i32> = (100..200).collect();
        assert!(diff(&a, &b, 10).is_none());
        assert!(diff(&a, &b, 200).is_some());
        assert_eq!(diff::<i32>(&[], &[], 0), Some(vec![]));
    }
}
