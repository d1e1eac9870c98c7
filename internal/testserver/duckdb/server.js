// iamwatch test helper: DuckDB (npm @duckdb/node-api) answering SQL over
// stdin/stdout, one JSON request per line: {"sql": "..."} → one JSON
// response per line: {"columns": [...], "types": [...], "rows": [[...]]}
// with every value as text (or null), as Athena's API returns them, or
// {"error": "..."}. Statements of one request run in order; the last one's
// result is returned.
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');
const readline = require('readline');

(async () => {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let out;
    try {
      const req = JSON.parse(line);
      const reader = await conn.runAndReadAll(req.sql);
      const rows = reader.getRowsJson().map((r) => r.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))));
      out = { columns: reader.columnNames(), types: reader.columnTypes().map((t) => t.toString()), rows };
    } catch (e) {
      out = { error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
