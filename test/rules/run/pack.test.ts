/**
 * Every test case of the built-in pack (rules/pack/**\/*.test.yaml), run
 * through the real harness so CI fails when a rule and its cases disagree.
 * A test file whose rule file does not exist yet is listed as todo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findTestFiles, parseRuleTestFile, runCase } from '../../../rules/run/rule-tests.ts';
import { ruleBesideTest, ruleFileFor } from '../../../rules/run/test-resolver.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PACK = resolve(ROOT, 'rules/pack');

describe('built-in pack test cases', () => {
  const files = findTestFiles(PACK);
  it('has test files', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const file of files) {
    const rel = relative(ROOT, file);
    const parsed = parseRuleTestFile(rel, readFileSync(file, 'utf8'));
    describe(`${parsed.rule} (${rel})`, () => {
      if (!existsSync(ruleFileFor(file))) {
        it.todo(`${parsed.cases.length} case(s): no ${relative(ROOT, ruleFileFor(file))} yet`);
        return;
      }
      const resolveRule = ruleBesideTest(file, true);
      for (const c of parsed.cases) {
        it(`${c.name} (line ${c.line})`, async () => {
          const r = await runCase(rel, parsed.rule, c, resolveRule);
          expect(r.problems, r.problems.join('\n')).toEqual([]);
          expect(r.pass).toBe(true);
        });
      }
    });
  }
});
