/**
 * The fairness suite's data: for each TODO of a lab, correct solutions written differently and the mistakes its
 * checks name. A solution is the whole cell as a student would write it; a mistake is an edit of one of them.
 */
export interface Mistake {
  /** Which correct solution the mistake edits (default 0). */
  variant?: number;
  /** The edit: the text (found exactly once) and what replaces it. */
  replace: [string, string];
  /** More edits the same mistake needs, applied after `replace`. */
  also?: [string, string][];
  /** The sentence the check must say, in the test's output. */
  says: RegExp;
}

export interface TodoFairness {
  /** The graded test that checks this TODO (its grade_id). */
  test: string;
  /** Other TODOs of the lab whose functions this one calls: a mistake there is not graded with a mistake here. */
  uses?: string[];
  /** At least three correct solutions, each a whole cell. */
  correct: string[];
  mistakes: Mistake[];
}

export interface LabFairness {
  lab: string;
  /**
   * The lab is not graded: the suite grades a copy of it in which each TODO's check cell (its `test`, an ungraded
   * cell of the source) is a test worth 1 point.
   */
  checksAsTests?: boolean;
  /** By the grade_id of each TODO's solution cell. */
  todos: Record<string, TodoFairness>;
}
