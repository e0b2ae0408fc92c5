// Benchmark peer: n-body in JavaScript, the same algorithm as nbody.weft.
const PI = 3.141592653589793, SOLAR_MASS = 4 * PI * PI, DPY = 365.24;
function body(x, y, z, vx, vy, vz, mass) { return { x, y, z, vx: vx * DPY, vy: vy * DPY, vz: vz * DPY, mass: mass * SOLAR_MASS }; }
function system() {
  return [
    { x: 0, y: 0, z: 0, vx: 0, vy: 0, vz: 0, mass: SOLAR_MASS },
    body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01, 1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05, 9.54791938424326609e-04),
    body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01, -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05, 2.85885980666130812e-04),
    body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01, 2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05, 4.36624404335156298e-05),
    body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01, 2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05, 5.15138902046611451e-05),
  ];
}
function offset(bs) {
  let px = 0, py = 0, pz = 0;
  for (const b of bs) { px += b.vx * b.mass; py += b.vy * b.mass; pz += b.vz * b.mass; }
  bs[0].vx = -px / SOLAR_MASS; bs[0].vy = -py / SOLAR_MASS; bs[0].vz = -pz / SOLAR_MASS;
}
function energy(bs) {
  let e = 0;
  for (let i = 0; i < bs.length; i++) {
    const b = bs[i];
    e += 0.5 * b.mass * (b.vx * b.vx + b.vy * b.vy + b.vz * b.vz);
    for (let j = i + 1; j < bs.length; j++) {
      const c = bs[j], dx = b.x - c.x, dy = b.y - c.y, dz = b.z - c.z;
      e -= b.mass * c.mass / Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}
function advance(bs, dt) {
  const n = bs.length;
  for (let i = 0; i < n; i++) {
    const bi = bs[i];
    for (let j = i + 1; j < n; j++) {
      const bj = bs[j], dx = bi.x - bj.x, dy = bi.y - bj.y, dz = bi.z - bj.z;
      const d2 = dx * dx + dy * dy + dz * dz, mag = dt / (d2 * Math.sqrt(d2));
      const mj = bj.mass * mag; bi.vx -= dx * mj; bi.vy -= dy * mj; bi.vz -= dz * mj;
      const mi = bi.mass * mag; bj.vx += dx * mi; bj.vy += dy * mi; bj.vz += dz * mi;
    }
  }
  for (const b of bs) { b.x += dt * b.vx; b.y += dt * b.vy; b.z += dt * b.vz; }
}
const bs = system();
offset(bs);
console.log(energy(bs).toFixed(9));
for (let k = 0; k < 5000000; k++) advance(bs, 0.01);
console.log(energy(bs).toFixed(9));
