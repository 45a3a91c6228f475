/**
 * Password hashing for apps, with scrypt (memory-hard, from node:crypto): async, so it runs on
 * libuv's thread pool rather than blocking the instance, with a random salt and the parameters in
 * the hash string, compared in constant time. Works inside instances.
 *
 *   const hash = await hashPassword(password);        // "$scrypt$ln=15,r=8,p=1$<salt>$<hash>"
 *   if (await verifyPassword(password, hash)) ...
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { CairnError } from "./errors.js";

export interface PasswordHashOptions {
  /** log2 of the CPU/memory cost N (default 15: 32 MiB of memory and tens of ms per hash). */
  cost?: number;
  blockSize?: number;
  parallelization?: number;
}

const keyLength = 32;
const maxPasswordBytes = 1024;
/** Hashes naming more than this are refused, so a planted hash cannot make verification run away. */
const bounds = { cost: [10, 20], blockSize: [1, 32], parallelization: [1, 16] } as const;

function derive(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** ln, r, p, maxmem: 256 * 2 ** ln * r + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function checkPassword(password: unknown): asserts password is string {
  if (typeof password !== "string") throw new CairnError("invalid_argument", "a password is a string");
  if (Buffer.byteLength(password) > maxPasswordBytes) {
    throw new CairnError("invalid_argument", `a password is at most ${maxPasswordBytes} bytes`);
  }
}

function inBounds(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

export async function hashPassword(password: string, options: PasswordHashOptions = {}): Promise<string> {
  checkPassword(password);
  const ln = options.cost ?? 15;
  const r = options.blockSize ?? 8;
  const p = options.parallelization ?? 1;
  if (!inBounds(ln, bounds.cost) || !inBounds(r, bounds.blockSize) || !inBounds(p, bounds.parallelization)) {
    throw new CairnError(
      "invalid_argument",
      "scrypt parameters out of range (cost 10–20, blockSize 1–32, parallelization 1–16)",
    );
  }
  const salt = randomBytes(16);
  const hash = await derive(password, salt, ln, r, p);
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

const format =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/;

/** Whether `password` matches `hash` (from hashPassword). A malformed hash is simply no match. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  checkPassword(password);
  const match = typeof hash === "string" ? format.exec(hash) : null;
  if (match === null) return false;
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!inBounds(ln, bounds.cost) || !inBounds(r, bounds.blockSize) || !inBounds(p, bounds.parallelization))
    return false;
  const expected = Buffer.from(match[5]!, "base64url");
  const actual = await derive(password, Buffer.from(match[4]!, "base64url"), ln, r, p);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
