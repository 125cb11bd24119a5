/**
 * The rule runner's public surface, for the CLI, the API, the reports and the bench.
 */
export { runRules, type RunOptions, type RunSummary, type RuleOutcome } from './runner.ts';
export { loadConfig, parseConfig, resolveConfigPath, ruleOverrides, EMPTY_CONFIG, type FiscusConfig, type AllowEntry } from './config.ts';
export { loadDefinitions, withConfig, selectRules, compileLoaded, type LoadedRule } from './catalog.ts';
export { flagId } from './result-rows.ts';
export { summaryTable } from './summary-text.ts';
export { findTestFiles, parseRuleTestFile, runRuleTestFile, runCase, formatCaseResults, type CaseResult } from './rule-tests.ts';
