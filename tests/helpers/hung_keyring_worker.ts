/// <reference lib="deno.worker" />
// A keyring worker whose backend never answers (a hung Secret Service):
// it spins in JS on the first request, so only terminate() ends it.
self.onmessage = () => {
  for (;;) { /* hung */ }
};
