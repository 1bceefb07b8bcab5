import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Under Stryker a mutant's run stops at its first failing test, so the order of files
// decides what a killed mutant costs. Vitest runs the longest files first; here a file
// that just failed comes first (the next mutant is usually in the same function and
// dies by the same test), then the quickest files, so most mutants die in seconds.
export default class QuickestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const last = (spec: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`);
    const rank = (spec: TestSpecification): [number, number] => {
      const result = last(spec);
      // Files never run yet go last: their cost is unknown.
      return [result?.failed ? 0 : 1, result?.duration ?? Number.POSITIVE_INFINITY];
    };
    return [...files].sort((a, b) => {
      const [failedA, durationA] = rank(a);
      const [failedB, durationB] = rank(b);
      return failedA - failedB || durationA - durationB || a.moduleId.localeCompare(b.moduleId);
    });
  }
}
