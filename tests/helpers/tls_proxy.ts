/**
 * Test helpers for TLS the way a Turso user connects: a test certificate
 * authority and a server certificate made with `openssl` at test time, and
 * Caddy (the Debian package) terminating TLS with HTTP/2 in front of a test
 * sqld, on a free loopback port, started and stopped by pid.
 *
 * jdo's child processes trust the test CA through `DENO_CERT` (Deno's fetch,
 * used by the HTTP client) and `SSL_CERT_FILE` (the native replica: rustls
 * with the platform's roots); see `trustEnv`.
 */
import { join } from "node:path";
import { freePort } from "./sqld.ts";

const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 50;
const KILL_GRACE_MS = 3_000;

async function commandWorks(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false; // not installed
  }
}

/** The tools a TLS test needs that are missing on this machine (empty: all there). */
export async function missingTlsTools(): Promise<string[]> {
  const [caddy, openssl] = await Promise.all([
    commandWorks("caddy", ["version"]),
    commandWorks("openssl", ["version"]),
  ]);
  return [...(caddy ? [] : ["caddy"]), ...(openssl ? [] : ["openssl"])];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const text = new TextDecoder();
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${out.code}):\n${text.decode(out.stdout)}${
        text.decode(out.stderr)
      }`,
    );
  }
}

// ---------------------------------------------------------------- certificates

export interface TestCertificates {
  /** PEM of the test CA: what a client must trust. */
  caFile: string;
  /** PEM of the server certificate (CN and SAN localhost, SAN IP 127.0.0.1). */
  certFile: string;
  /** PEM of the server's private key. */
  keyFile: string;
}

/**
 * A fresh CA and a server certificate it signed, for `localhost` and
 * `127.0.0.1` (in the subjectAltName: TLS clients ignore the CN). P-256 keys,
 * valid for two days.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=jdo test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await run("openssl", [
    "req",
    ...ec,
    "-keyout",
    "key.pem",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await Deno.writeTextFile(
    join(dir, "server.ext"),
    [
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ], dir);
  return {
    caFile: join(dir, "ca.pem"),
    certFile: join(dir, "cert.pem"),
    keyFile: join(dir, "key.pem"),
  };
}

/** The environment that makes a jdo process trust `caFile`, in both its TLS stacks. */
export function trustEnv(caFile: string): Record<string, string> {
  return { DENO_CERT: caFile, SSL_CERT_FILE: caFile };
}

// ---------------------------------------------------------------- caddy

/** One request as Caddy's JSON access log records it. */
export interface AccessEntry {
  /** "HTTP/2.0", "HTTP/1.1". */
  proto: string;
  method: string;
  uri: string;
  status: number;
  contentType: string | null;
  /** TLS version number (0x0304 = TLS 1.3); 0 for a request without TLS. */
  tlsVersion: number;
  /** The ALPN protocol the TLS handshake agreed on ("h2", or "" when none was offered). */
  alpn: string;
}

export interface TlsProxy extends AsyncDisposable {
  port: number;
  /** Stops Caddy (SIGTERM, SIGKILL after 3 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Every request Caddy has logged so far. */
  accessLog(): Promise<AccessEntry[]>;
}

interface RawEntry {
  status: number;
  request: {
    proto: string;
    method: string;
    uri: string;
    headers?: Record<string, string[]>;
    tls?: { version?: number; proto?: string };
  };
}

function caddyfile(
  port: number,
  upstreamPort: number,
  certs: TestCertificates,
  dir: string,
): string {
  return `{
	auto_https off
	admin off
	storage file_system ${join(dir, "data")}
	servers {
		protocols h1 h2
	}
}

https://localhost:${port}, https://127.0.0.1:${port} {
	bind 127.0.0.1
	tls ${certs.certFile} ${certs.keyFile}
	log {
		output file ${join(dir, "access.log")}
		format json
	}
	reverse_proxy 127.0.0.1:${upstreamPort} {
		transport http {
			versions h2c 1.1
		}
	}
}
`;
}

async function waitReady(
  url: string,
  caFile: string,
  status: Promise<Deno.CommandStatus>,
): Promise<"ready" | "exited" | "timeout"> {
  let exited = false;
  status.then(() => exited = true, () => exited = true);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) return "exited";
      try {
        const res = await fetch(`${url}/health`, { client, signal: AbortSignal.timeout(1_000) });
        await res.body?.cancel();
        if (res.status === 200) return "ready";
      } catch {
        // not listening yet
      }
      await sleep(POLL_MS);
    }
    return "timeout";
  } finally {
    client.close();
  }
}

/**
 * Starts Caddy on a free loopback port, terminating TLS with `certs` and
 * proxying to the sqld on `upstreamPort` (HTTP/2 cleartext or HTTP/1.1, as
 * the request came). Ready once `/health` answers 200 through it.
 */
export async function startTlsProxy(
  upstreamPort: number,
  certs: TestCertificates,
  dir: string,
): Promise<TlsProxy> {
  const config = join(dir, "Caddyfile");
  const logFile = join(dir, "caddy.log");
  for (let attempt = 1;; attempt++) {
    const port = await freePort();
    await Deno.writeTextFile(config, caddyfile(port, upstreamPort, certs, dir));
    const log = await Deno.open(logFile, { create: true, append: true, write: true });
    const child = new Deno.Command("caddy", {
      args: ["run", "--config", config, "--adapter", "caddyfile"],
      // Caddy's own files (autosave, locks) stay in the test's directory.
      env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const logged = child.stderr.pipeTo(log.writable).catch(() => {});
    const status = child.status;
    const stop = async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
      }, KILL_GRACE_MS);
      await status;
      clearTimeout(timer);
      await logged;
    };
    const outcome = await waitReady(`https://localhost:${port}`, certs.caFile, status);
    if (outcome === "ready") {
      return {
        port,
        stop,
        accessLog: () => readAccessLog(join(dir, "access.log")),
        [Symbol.asyncDispose]: stop,
      };
    }
    await stop();
    // The free port can be taken again before Caddy binds it: try another one.
    if (outcome === "exited" && attempt < 3) continue;
    throw new Error(
      `caddy did not become ready (${outcome}); its log:\n${await Deno.readTextFile(logFile).catch(
        () => "(none)",
      )}`,
    );
  }
}

async function readAccessLog(path: string): Promise<AccessEntry[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return text.split("\n").filter((line) => line.trim()).map((line) => {
    const raw = JSON.parse(line) as RawEntry;
    return {
      proto: raw.request.proto,
      method: raw.request.method,
      uri: raw.request.uri,
      status: raw.status,
      contentType: raw.request.headers?.["Content-Type"]?.[0] ?? null,
      tlsVersion: raw.request.tls?.version ?? 0,
      alpn: raw.request.tls?.proto ?? "",
    };
  });
}
