// Shared by the scripts test_frontend_lib.py runs: the bundled library, and a loop that answers a JSON
// list of calls read from stdin ([{op, ...}] -> [{result} | {error}]). Bytes travel as {"$bytes": "0x…"}.

export const L = await import(new URL("../../../frontend/dist/elicense.node.mjs", import.meta.url));

export async function serve(ops) {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const calls = JSON.parse(input, (_, v) => (v?.constructor === Object && "$bytes" in v ? L.fromHex(v.$bytes) : v));
  const answers = [];
  for (const call of calls) {
    try {
      answers.push({ result: (await ops[call.op](call)) ?? null });
    } catch (err) {
      answers.push({ error: err.message });
    }
  }
  process.stdout.write(JSON.stringify(answers, (_, v) => (v instanceof Uint8Array ? { $bytes: L.toHex(v) } : v)));
}
