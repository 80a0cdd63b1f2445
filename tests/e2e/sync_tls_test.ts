/**
 * Cloud sync through TLS, the way every Turso user connects: `libsql://` on a
 * TLS-terminating proxy (Caddy, HTTP/2) in front of a sqld with JWT auth. The
 * other sync tests talk plain http:// to 127.0.0.1; this one runs the same
 * flows over a certificate the jdo processes must verify, in both of their
 * TLS stacks: Deno's fetch (the HTTP client) and the native replica's rustls.
 *
 * Needs `caddy` and `openssl` (.ci/run installs them); without them the test
 * is ignored and its name says why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSqld } from "../helpers/sqld.ts";
import {
  device,
  exists,
  ids,
  readJsonIfExists,
  type Row,
  setup,
  status,
  syncNow,
} from "../helpers/device.ts";
import {
  type AccessEntry,
  makeTestCertificates,
  missingTlsTools,
  startTlsProxy,
  trustEnv,
} from "../helpers/tls_proxy.ts";

const MISSING = await missingTlsTools();
const NAME = "sync over TLS: libsql:// through an HTTP/2 proxy, untrusted certificate refused";

const TLS_1_3 = 0x0304;
const UNTRUSTED =
  /^jdo: Cannot reach localhost:\d+: its TLS certificate is not trusted by this machine \(/;

function summary(entries: AccessEntry[]): string {
  return entries.map((e) => `${e.proto} ${e.method} ${e.uri} ${e.status} alpn=${e.alpn}`).join(
    "\n",
  );
}

Deno.test({
  name: MISSING.length ? `${NAME} (skipped: ${MISSING.join(" and ")} not installed)` : NAME,
  ignore: MISSING.length > 0,
  async fn(t) {
    await using server = await startSqld({ auth: true });
    const token = await server.token("rw");
    const dir = await Deno.makeTempDir({ prefix: "jdo-tls-" });
    try {
      const certs = await makeTestCertificates(dir);
      await using proxy = await startTlsProxy(server.port, certs, dir);
      const url = `libsql://localhost:${proxy.port}`;
      const trusted = trustEnv(certs.caFile);
      await using a = await device("A", { env: trusted });
      await using b = await device("B", { env: trusted });
      await using stranger = await device("untrusting");
      const created: Row[] = [];

      await t.step(
        "an untrusted certificate is refused: exit 3, one line, nothing saved",
        async () => {
          await stranger.ok(["commit", "Stay local", "--to", "Eve", "--due", "2031-03-14"]);
          const r = await setup(stranger, url, token);
          assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
          assert.match(r.stderr, UNTRUSTED);
          assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
          const settings = await readJsonIfExists<{ turso_enabled?: boolean }>(
            join(stranger.home, "settings.json"),
          );
          assert.notEqual(settings?.turso_enabled, true);
          assert.equal(await exists(join(stranger.home, "auth.json")), false);
        },
      );

      await t.step("the native replica checks the certificate itself", async () => {
        // Deno's fetch trusts the CA, the replica's rustls (platform roots) does not.
        const r = await setup(stranger, url, token, [], {
          env: { DENO_CERT: certs.caFile },
        });
        assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
        // The HTTP client's checks passed; the replica's first download failed.
        assert.match(r.stderr, /✓ Connected to localhost:\d+: token accepted/);
        const lines = r.stderr.trimEnd().split("\n");
        assert.match(lines.at(-1)!, UNTRUSTED);
        assert.equal(lines.filter((line) => line.startsWith("jdo:")).length, 1, r.stderr);
        assert.equal(await exists(join(stranger.home, "auth.json")), false);
      });

      await t.step("a token the server refuses is reported through the proxy", async () => {
        const r = await setup(a, url, `${token.slice(0, -4)}AAAA`);
        assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /rejected the token/);
      });

      await t.step("setup with local data uploads it over TLS", async () => {
        created.push(
          await a.json<Row>([
            "commit",
            "Audit memo",
            "--to",
            "Alice",
            "--due",
            "2031-03-14",
            "--json",
          ]),
          await a.json<Row>([
            "commit",
            "Board deck",
            "--to",
            "Bob",
            "--due",
            "2031-03-15",
            "--json",
          ]),
        );
        const r = await setup(a, url, token);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /↑ 4 uploaded, ↓ 0 downloaded/); // 2 commitments, 2 stakeholders
        const st = await status(a);
        assert.deepEqual([st.state, st.url, st.last_result], ["online", url, "ok"]);
      });

      await t.step(
        "a second device's first download runs through the embedded replica",
        async () => {
          const before = (await proxy.accessLog()).length;
          const r = await setup(b, url, token);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /↑ 0 uploaded, ↓ 4 downloaded/);
          // The replica fetched the frames: gRPC-web calls of its own, over TLS.
          const requests = (await proxy.accessLog()).slice(before);
          assert.ok(
            requests.some((e) => e.uri === "/wal_log.ReplicationLog/BatchLogEntries"),
            `no replica download through the proxy:\n${summary(requests)}`,
          );
          assert.deepEqual(await ids(b), created.map((row) => row.id).sort());
        },
      );

      await t.step("edits both ways", async () => {
        const [first, second] = created.map((row) => row.id);
        await a.ok(["edit", first, "--deliverable", "Audit memo v2"]);
        const fromB = await b.json<Row>(["capture", "idea from B", "--json"]);
        await b.ok(["edit", second, "--notes", "slides from finance"]);
        assert.equal((await syncNow(a)).pushed, 1);
        const onB = await syncNow(b);
        assert.deepEqual([onB.pushed, onB.pulled, onB.conflicts], [2, 1, 0]);
        assert.equal((await syncNow(a)).pulled, 2);
        for (const dev of [a, b]) {
          const [one, two, inbox] = await Promise.all([
            dev.json<Row>(["show", first, "--json"]),
            dev.json<Row>(["show", second, "--json"]),
            ids(dev, "inbox"),
          ]);
          assert.equal(one.deliverable, "Audit memo v2", dev.name);
          assert.equal(two.notes, "slides from finance", dev.name);
          assert.deepEqual(inbox, [fromB.id], dev.name);
        }
      });

      await t.step(
        "a device that no longer trusts the certificate: exit 3 and what to do",
        async () => {
          const r = await b.run(["sync", "now"], {
            env: { DENO_CERT: undefined, SSL_CERT_FILE: undefined },
          });
          assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
          assert.match(
            r.stderr,
            /^jdo: Cannot reach localhost:\d+: its TLS certificate is not trusted by this machine \(for a private CA, set DENO_CERT and SSL_CERT_FILE to its PEM file\)\n$/,
          );
        },
      );

      await t.step("every request went through TLS; the HTTP client spoke HTTP/2", async () => {
        const log = await proxy.accessLog();
        const seen = summary(log);
        assert.ok(log.every((e) => e.tlsVersion >= TLS_1_3), `a request without TLS 1.3:\n${seen}`);
        const pipeline = log.filter((e) => e.uri === "/v2/pipeline");
        assert.ok(pipeline.length > 0, `no HTTP client requests:\n${seen}`);
        assert.ok(
          pipeline.every((e) => e.proto === "HTTP/2.0" && e.alpn === "h2"),
          `an HTTP client request without HTTP/2:\n${seen}`,
        );
        // The replica's calls are gRPC-web (its client offers no ALPN, so they
        // run over HTTP/1.1 inside the TLS connection).
        const replication = log.filter((e) => e.uri.startsWith("/wal_log.ReplicationLog/"));
        assert.ok(replication.length > 0, `no replica requests:\n${seen}`);
        assert.ok(
          replication.every((e) =>
            e.contentType?.startsWith("application/grpc") && e.status === 200
          ),
          `a failed replica request:\n${seen}`,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
