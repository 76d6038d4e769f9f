// Sealing to the log's public key with libsodium's crypto_box_seal (X25519 + XSalsa20-Poly1305,
// anonymous sender): only the holder of the log's secret key — the host, once the log is readable —
// can open what the outbox holds. libsodium comes from npm (extension/package.json); .ci/setup
// copies its ESM build into extension/lib/.
import sodium from '../../lib/libsodium-wrappers.js';

let readyPromise = null;
function ready() {
  if (!readyPromise) readyPromise = sodium.ready;
  return readyPromise;
}

/** Checks and decodes a base64 X25519 public key: exactly 32 bytes, or it throws. */
export async function decodePublicKey(b64) {
  await ready();
  const pk = sodium.from_base64(String(b64), sodium.base64_variants.ORIGINAL);
  if (pk.length !== sodium.crypto_box_PUBLICKEYBYTES) throw new Error('public key: wrong length');
  return pk;
}

/** Seals a UTF-8 string to the public key; returns standard base64. */
export async function sealString(publicKeyB64, text) {
  const pk = await decodePublicKey(publicKeyB64);
  const sealed = sodium.crypto_box_seal(sodium.from_string(text), pk);
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL);
}

/** For tests only: opens a sealed box with a key pair. */
export async function openSealed(sealedB64, publicKey, secretKey) {
  await ready();
  const c = sodium.from_base64(sealedB64, sodium.base64_variants.ORIGINAL);
  return sodium.to_string(sodium.crypto_box_seal_open(c, publicKey, secretKey));
}

/** For tests only: a fresh key pair, public key as base64. */
export async function testKeyPair() {
  await ready();
  const kp = sodium.crypto_box_keypair();
  return { publicKey: kp.publicKey, secretKey: kp.privateKey,
    publicKeyB64: sodium.to_base64(kp.publicKey, sodium.base64_variants.ORIGINAL) };
}
