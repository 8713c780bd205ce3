/** One faulty option: its path (`cache.ttlMs`) and what is wrong with it. */
export interface OptionProblem {
  option: string;
  problem: string;
}

/**
 * A configuration value of the module (or of the client) is invalid. Thrown at
 * startup, with a message that starts with the option's path, e.g.
 * `baseUrl: must be an absolute http(s) URL`; when several options are wrong,
 * every one of them, separated by `; `. Messages never quote a value.
 */
export class ApexAuthOptionsError extends Error {
  /** The path of the (first) faulty option. */
  readonly option: string;
  /** Every faulty option found. */
  readonly problems: readonly OptionProblem[];

  constructor(option: string, problem: string);
  constructor(problems: readonly OptionProblem[]);
  constructor(optionOrProblems: string | readonly OptionProblem[], problem = '') {
    const problems =
      typeof optionOrProblems === 'string'
        ? [{ option: optionOrProblems, problem }]
        : optionOrProblems;
    super(problems.map((each) => `${each.option}: ${each.problem}`).join('; '));
    this.name = 'ApexAuthOptionsError';
    this.option = problems[0]?.option ?? 'options';
    this.problems = problems;
  }
}
