/// <reference lib="deno.worker" />
/**
 * Runs the embedded replica's native sync on its own thread. The native call
 * has no timeout and holds its thread while the network stalls; here it can
 * only hold this worker, which the main thread terminates when time is up.
 */
import { type Client, createClient } from "@libsql/client";

export type ReplicaRequest =
  | { id: number; op: "sync"; path: string; url: string; token: string | null }
  | { id: number; op: "close" };

export type ReplicaReply = { id: number; ok: true } | { id: number; ok: false; message: string };

let client: Client | undefined;

self.onmessage = async (event: MessageEvent<ReplicaRequest>) => {
  const request = event.data;
  try {
    if (request.op === "sync") {
      client ??= createClient({
        url: `file:${request.path}`,
        syncUrl: request.url,
        authToken: request.token ?? undefined,
      });
      await client.sync();
    } else {
      client?.close();
      client = undefined;
    }
    self.postMessage({ id: request.id, ok: true } satisfies ReplicaReply);
  } catch (error) {
    client?.close();
    client = undefined;
    const message = error instanceof Error ? error.message : String(error);
    self.postMessage({ id: request.id, ok: false, message } satisfies ReplicaReply);
  }
};
