/**
 * Golden tests for `import ipvsadm`: each fixtures/NAME.rules (the seeds' saved rules and
 * scripts, mistakes included, and more) with NAME.args.json is imported and compared with
 * NAME.expected.stderr and, on success, NAME.expected.yaml. `UPDATE_GOLDEN=1` rewrites them.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { formatDiagnostic } from '../keepalived/diagnostics.ts';
import { validateSite } from '../site/validate.ts';
import { importIpvsadm } from './import.ts';
import { parseSave, renderSave } from './codec.ts';
import { exportIpvsadm } from './export.ts';

const ROOT = resolve(import.meta.dirname, 'fixtures');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const CASES = readdirSync(ROOT)
  .filter((f) => f.endsWith('.rules'))
  .map((f) => f.slice(0, -'.rules'.length))
  .sort();

describe('ipvsadm import fixtures', () => {
  for (const name of CASES) {
    it(name, () => {
      const args = JSON.parse(readFileSync(join(ROOT, `${name}.args.json`), 'utf8'));
      const r = importIpvsadm(readFileSync(join(ROOT, `${name}.rules`), 'utf8'), `${name}.rules`, {
        site: args.site ?? 'imported',
        node: args.node,
        address: args.address,
        interface: args.interface,
      });
      const stderr = r.diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join('');
      const yaml = r.site ? stringify(r.site, { lineWidth: 0 }) : null;
      if (UPDATE) {
        writeFileSync(join(ROOT, `${name}.expected.stderr`), stderr);
        if (yaml) writeFileSync(join(ROOT, `${name}.expected.yaml`), yaml);
      }
      expect(stderr).toBe(readFileSync(join(ROOT, `${name}.expected.stderr`), 'utf8'));
      if (!yaml) expect(existsSync(join(ROOT, `${name}.expected.yaml`))).toBe(false);
      else {
        expect(yaml).toBe(readFileSync(join(ROOT, `${name}.expected.yaml`), 'utf8'));
        expect(validateSite(parse(yaml)).ok).toBe(true);
      }
    });
  }

  it('export ipvsadm of an imported -Sn file gives the same rules back, as -Sn prints them', () => {
    const text = readFileSync(join(ROOT, 'full.rules'), 'utf8');
    const r = importIpvsadm(text, 'full.rules', { site: 'full', node: 'dr1', address: '10.30.0.2' });
    // flag-3 has no place in a spec (warned about on import), everything else comes back.
    const exported = exportIpvsadm(r.site!, 'dr1').text;
    expect(parseSave(exported)).toEqual(parseSave(text.replace(',flag-3', '')));
    expect(exported).toBe(renderSave(parseSave(text.replace(',flag-3', ''))));
  });
});
