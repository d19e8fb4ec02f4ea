// Reads `paratro demo --output json` on stdin and checks every signature in
// it with libraries that share no code with paratro: ethers recovers each
// ECDSA signer and compares it with the wallet address (and derives that
// address from the public key itself); @noble/curves verifies each BIP-340
// Schnorr signature. It also checks that rotation kept the key. Exits 1 on
// the first failure.
import { computeAddress, getAddress, recoverAddress, Signature, version as ethersVersion } from "ethers";
import { schnorr } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/curves/utils.js";

const hex0x = (h) => (h.startsWith("0x") ? h : "0x" + h);
const fail = (msg) => { console.error("verify: FAIL: " + msg); process.exit(1); };

let input = "";
for await (const chunk of process.stdin) input += chunk;
const report = JSON.parse(input);
if (!Array.isArray(report.wallets) || report.wallets.length === 0) fail("no wallets in the report");

let count = 0;
for (const w of report.wallets) {
  if (w.rotation.public_key_before !== w.rotation.public_key_after || !w.rotation.unchanged) {
    fail(`${w.id}: rotation changed the key`);
  }
  if (!Array.isArray(w.signatures) || w.signatures.length === 0) fail(`${w.id}: no signatures`);
  for (const s of w.signatures) {
    const where = `${w.id} signature by ${s.signers.join("+")} (epoch ${s.epoch})`;
    if (w.scheme === "ecdsa") {
      if (getAddress(computeAddress(hex0x(s.public_key))) !== getAddress(s.address)) {
        fail(`${where}: address ${s.address} is not the address of ${s.public_key}`);
      }
      let signer;
      try {
        signer = recoverAddress(hex0x(s.digest), Signature.from(hex0x(s.signature)));
      } catch (e) {
        fail(`${where}: not a valid signature: ${e.message}`);
      }
      if (getAddress(signer) !== getAddress(s.address)) fail(`${where}: recovers ${signer}, want ${s.address}`);
    } else if (w.scheme === "schnorr") {
      if (!schnorr.verify(hexToBytes(s.signature), hexToBytes(s.digest), hexToBytes(s.public_key))) {
        fail(`${where}: BIP-340 verification failed`);
      }
    } else {
      fail(`${w.id}: unknown scheme ${w.scheme}`);
    }
    count++;
  }
}
console.log(`verify: ok: ${count} signatures in ${report.wallets.length} wallets verified independently (ethers ${ethersVersion}, @noble/curves)`);
