'use strict';
// The terminal table and the JSON report.

const { fmtMs } = require('./util');

function wrap(text, width) {
  // Break after "; " where possible, after ", " in a part still too long.
  const parts = text.split(/(?<=; )/).flatMap((p) => (p.length > width ? p.split(/(?<=, )|(?<=: )/) : [p]));
  const lines = [];
  let line = '';
  for (const p of parts) {
    if (line && (line + p).length > width) {
      lines.push(line.trimEnd());
      line = '';
    }
    line += p;
  }
  if (line)
    lines.push(line.trimEnd());
  return lines;
}

function describeRun(cfg) {
  return `${cfg.nodes} nodes, net ${cfg.net}, nginx ${cfg.nginx}, ${cfg.clients} clients (${cfg.transportsUsed.join(',')}), `
    + `${cfg.rate} msg/s, ${cfg.duration} s traffic per scenario`;
}

function table(runs) {
  const out = [];
  const width = Math.max(60, Math.min(140, (process.stdout.columns || 120) - 32));
  runs.forEach((run, i) => {
    out.push('');
    out.push(`cluster-lab run ${i + 1}/${runs.length}: ${describeRun(run.config)}`);
    if (run.setupError) {
      out.push(`  SETUP FAILED: ${run.setupError}`);
      return;
    }
    out.push(`  setup: mesh of ${run.config.nodes} in ${fmtMs(run.setup.meshMs)}, clients ${JSON.stringify(run.setup.clientsPerNode)}`);
    out.push(`  ${'scenario'.padEnd(10)} ${'verdict'.padEnd(7)} ${'time'.padStart(7)}  figures`);
    out.push(`  ${'-'.repeat(10)} ${'-'.repeat(7)} ${'-'.repeat(7)}  ${'-'.repeat(Math.min(width, 60))}`);
    for (const s of run.scenarios) {
      const verdict = s.verdict.toUpperCase();
      const text = s.verdict === 'skip' ? s.skipped : (s.summary || '');
      const lines = wrap(text, width);
      out.push(`  ${s.name.padEnd(10)} ${verdict.padEnd(7)} ${fmtMs(s.seconds * 1000).padStart(7)}  ${lines[0] || ''}`);
      for (const l of lines.slice(1))
        out.push(`  ${''.padEnd(27)}${l}`);
      for (const f of s.failures)
        out.push(`  ${''.padEnd(27)}! ${f.split('\n')[0]}`);
      for (const r of s.repairs || [])
        out.push(`  ${''.padEnd(27)}(before it: ${r})`);
    }
    out.push(`  run ${run.ok ? 'PASSED' : 'FAILED'} in ${run.seconds.toFixed(1)} s${run.logDir ? `; node logs: ${run.logDir}` : ''}`);
  });
  return out.join('\n');
}

module.exports = { table };
