// Benchmark peer: fannkuch-redux in JavaScript, the same algorithm as fannkuch.weft.
function fannkuch(n) {
  const perm1 = [], count = new Array(n).fill(0);
  for (let i = 0; i < n; i++) perm1.push(i);
  const perm = perm1.slice();
  let maxFlips = 0, checksum = 0, permCount = 0, r = n;
  for (;;) {
    while (r !== 1) { count[r - 1] = r; r -= 1; }
    for (let i = 0; i < n; i++) perm[i] = perm1[i];
    let flips = 0, k = perm[0];
    while (k !== 0) {
      let i = 0, j = k;
      while (i < j) { const t = perm[i]; perm[i] = perm[j]; perm[j] = t; i++; j--; }
      flips++;
      k = perm[0];
    }
    if (flips > maxFlips) maxFlips = flips;
    checksum += permCount % 2 === 0 ? flips : -flips;
    for (;;) {
      if (r === n) return [checksum, maxFlips];
      const perm0 = perm1[0];
      for (let i = 0; i < r; i++) perm1[i] = perm1[i + 1];
      perm1[r] = perm0;
      count[r] -= 1;
      if (count[r] > 0) break;
      r += 1;
    }
    permCount++;
  }
}
const n = 10;
const [checksum, flips] = fannkuch(n);
console.log(checksum);
console.log(`Pfannkuchen(${n}) = ${flips}`);
