/**
 * Which rule a test file tests: the `<name>.rule.yaml` beside its
 * `<name>.test.yaml`, loaded on its own so that one broken rule fails only its
 * own cases. Shared by `fiscus rules test` and the vitest pack suite.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { languageModule } from './catalog.ts';
import type { ResolveRule } from './rule-tests.ts';

export function ruleFileFor(testFile: string): string {
  return testFile.replace(/\.test\.yaml$/, '.rule.yaml');
}

export function ruleBesideTest(testFile: string, builtin: boolean): ResolveRule {
  const ruleFile = ruleFileFor(testFile);
  let loading: Promise<unknown> | undefined;
  return async (ruleId, params) => {
    const lang = await languageModule();
    if (!existsSync(ruleFile)) throw new Error(`rule ${ruleId} has no rule file ${relative(process.cwd(), ruleFile)}`);
    loading ??= Promise.resolve(lang.loadRuleFile(ruleFile, { builtin }));
    const def = (await loading) as Awaited<ReturnType<typeof lang.loadRuleFile>>;
    if (def.meta.id !== ruleId) throw new Error(`${relative(process.cwd(), ruleFile)} defines ${def.meta.id}, but the test file is for ${ruleId}`);
    return lang.compileRule(def, { params });
  };
}
