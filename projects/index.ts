/** Livelihood projects (民生实事): the library the CLI `fiscus projects`, the API /v1/projects and the project report use. See projects/README.md. */
export { syncProjects, loadProjects, loadProject, recordFlagId, projectKey, RECORD_RULE, PROBLEM_RULE, CHECKLIST_RULE, PROBLEM_RULES, type ProjectRow, type SyncResult } from './records.ts';
export { reportProblem, handOverProblem, issueChecklist, problemInputSchema, handOverSchema, checklistSchema, type ProblemInput, type ChecklistInput, type ChecklistResult } from './problems.ts';
export { gradeProject, voteSatisfaction, gradeSchema, satisfactionSchema, GRADES, GRADE_EN, EVALUATE_ROLES } from './evaluation.ts';
export { projectMoney, SPENDING_SQL, timePercent, type ProjectMoney } from './money.ts';
export { projectYear, type ProjectYear, type ProjectYearRow } from './year.ts';
