//! The benchmark programs written in plain Rust: the native peer Weft is compared with.
//! Same algorithms and data layouts as `bench/*.weft` (a `Vec` of body structs, `Vec<i64>`
//! permutations), so the ratio measures the language implementation, not the algorithm.
// The constants are the benchmark's published ones, digit for digit.
#![allow(clippy::excessive_precision, clippy::approx_constant)]

pub fn fib(n: i64) -> i64 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

#[derive(Clone, Copy)]
struct Body {
    x: f64,
    y: f64,
    z: f64,
    vx: f64,
    vy: f64,
    vz: f64,
    mass: f64,
}

const SOLAR_MASS: f64 = 4.0 * 3.141592653589793 * 3.141592653589793;

fn planet(p: [f64; 7]) -> Body {
    let dpy = 365.24;
    Body {
        x: p[0],
        y: p[1],
        z: p[2],
        vx: p[3] * dpy,
        vy: p[4] * dpy,
        vz: p[5] * dpy,
        mass: p[6] * SOLAR_MASS,
    }
}

fn system() -> Vec<Body> {
    vec![
        Body {
            x: 0.0,
            y: 0.0,
            z: 0.0,
            vx: 0.0,
            vy: 0.0,
            vz: 0.0,
            mass: SOLAR_MASS,
        },
        planet([
            4.84143144246472090e+00,
            -1.16032004402742839e+00,
            -1.03622044471123109e-01,
            1.66007664274403694e-03,
            7.69901118419740425e-03,
            -6.90460016972063023e-05,
            9.54791938424326609e-04,
        ]),
        planet([
            8.34336671824457987e+00,
            4.12479856412430479e+00,
            -4.03523417114321381e-01,
            -2.76742510726862411e-03,
            4.99852801234917238e-03,
            2.30417297573763929e-05,
            2.85885980666130812e-04,
        ]),
        planet([
            1.28943695621391310e+01,
            -1.51111514016986312e+01,
            -2.23307578892655734e-01,
            2.96460137564761618e-03,
            2.37847173959480950e-03,
            -2.96589568540237556e-05,
            4.36624404335156298e-05,
        ]),
        planet([
            1.53796971148509165e+01,
            -2.59193146099879641e+01,
            1.79258772950371181e-01,
            2.68067772490389322e-03,
            1.62824170038242295e-03,
            -9.51592254519715870e-05,
            5.15138902046611451e-05,
        ]),
    ]
}

fn energy(bs: &[Body]) -> f64 {
    let mut e = 0.0;
    for i in 0..bs.len() {
        let b = bs[i];
        e += 0.5 * b.mass * (b.vx * b.vx + b.vy * b.vy + b.vz * b.vz);
        for c in &bs[i + 1..] {
            let (dx, dy, dz) = (b.x - c.x, b.y - c.y, b.z - c.z);
            e -= b.mass * c.mass / (dx * dx + dy * dy + dz * dz).sqrt();
        }
    }
    e
}

fn advance(bs: &mut [Body], dt: f64) {
    let n = bs.len();
    for i in 0..n {
        for j in i + 1..n {
            let (dx, dy, dz) = (bs[i].x - bs[j].x, bs[i].y - bs[j].y, bs[i].z - bs[j].z);
            let d2 = dx * dx + dy * dy + dz * dz;
            let mag = dt / (d2 * d2.sqrt());
            let mj = bs[j].mass * mag;
            bs[i].vx -= dx * mj;
            bs[i].vy -= dy * mj;
            bs[i].vz -= dz * mj;
            let mi = bs[i].mass * mag;
            bs[j].vx += dx * mi;
            bs[j].vy += dy * mi;
            bs[j].vz += dz * mi;
        }
    }
    for b in bs.iter_mut() {
        b.x += dt * b.vx;
        b.y += dt * b.vy;
        b.z += dt * b.vz;
    }
}

/// The program's output: the energy before and after `steps` steps.
pub fn nbody(steps: usize) -> String {
    let mut bs = system();
    let (mut px, mut py, mut pz) = (0.0, 0.0, 0.0);
    for b in &bs {
        px += b.vx * b.mass;
        py += b.vy * b.mass;
        pz += b.vz * b.mass;
    }
    bs[0].vx = -px / SOLAR_MASS;
    bs[0].vy = -py / SOLAR_MASS;
    bs[0].vz = -pz / SOLAR_MASS;
    let before = energy(&bs);
    for _ in 0..steps {
        advance(&mut bs, 0.01);
    }
    format!("{before:.9}\n{:.9}\n", energy(&bs))
}

/// (checksum, maximum flips)
pub fn fannkuch(n: usize) -> (i64, i64) {
    let mut perm1: Vec<i64> = (0..n as i64).collect();
    let mut perm = perm1.clone();
    let mut count = vec![0i64; n];
    let (mut max_flips, mut checksum, mut perm_count, mut r) = (0, 0, 0, n);
    loop {
        while r != 1 {
            count[r - 1] = r as i64;
            r -= 1;
        }
        perm.copy_from_slice(&perm1);
        let mut flips = 0;
        let mut k = perm[0] as usize;
        while k != 0 {
            let (mut i, mut j) = (0, k);
            while i < j {
                perm.swap(i, j);
                i += 1;
                j -= 1;
            }
            flips += 1;
            k = perm[0] as usize;
        }
        max_flips = max_flips.max(flips);
        checksum += if perm_count % 2 == 0 { flips } else { -flips };
        loop {
            if r == n {
                return (checksum, max_flips);
            }
            let perm0 = perm1[0];
            for i in 0..r {
                perm1[i] = perm1[i + 1];
            }
            perm1[r] = perm0;
            count[r] -= 1;
            if count[r] > 0 {
                break;
            }
            r += 1;
        }
        perm_count += 1;
    }
}
