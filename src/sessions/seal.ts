/**
 * Private key material at rest. With CAIRN_SECRET set, it is encrypted with AES-256-GCM under a key
 * derived from that secret by HKDF-SHA256 (a fresh salt and IV per record), so a copy of the
 * database alone cannot sign tokens. Without it, the material is stored as it is and the database
 * must be protected like the secret would be. Public keys are always stored in the clear: verifying
 * never needs the secret.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { CairnError } from "../sdk/errors.js";

export type Sealed =
  { enc: "none"; data: string } | { enc: "A256GCM"; salt: string; iv: string; tag: string; data: string };

const info = Buffer.from("cairn sessions: key material at rest");

function keyFrom(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), salt, info, 32));
}

export function seal(plain: string, secret: string | undefined): Sealed {
  if (!secret) return { enc: "none", data: plain };
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFrom(secret, salt), iv);
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return {
    enc: "A256GCM",
    salt: salt.toString("base64url"),
    iv: iv.toString("base64url"),
    tag: cipher.getAuthTag().toString("base64url"),
    data: data.toString("base64url"),
  };
}

/** Fails with `secret_mismatch` when the material was sealed under another CAIRN_SECRET (or none). */
export function unseal(sealed: Sealed, secret: string | undefined): string {
  if (sealed.enc === "none") return sealed.data;
  if (!secret) {
    throw new CairnError(
      "secret_mismatch",
      "signing keys were stored encrypted, but CAIRN_SECRET is not set",
    );
  }
  try {
    const decipher = createDecipheriv(
      "aes-256-gcm",
      keyFrom(secret, Buffer.from(sealed.salt, "base64url")),
      Buffer.from(sealed.iv, "base64url"),
    );
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  } catch (error) {
    throw new CairnError("secret_mismatch", "signing keys were stored under another CAIRN_SECRET", {
      cause: error,
    });
  }
}
