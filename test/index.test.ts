import { describe, expect, it } from "vitest";
import * as silicon from "../src/index.ts";

describe("the library entry point", () => {
  it("exposes the workflow and every stage", () => {
    for (const name of ["loadStudy", "generate", "createProvider", "readTasksTable", "readTable", "compilePersona", "InputError", "storedAnswers", "analyzeStudy", "writeStudyResults", "writeDemoStudy", "renderReport"]) {
      expect(typeof (silicon as Record<string, unknown>)[name], name).toBe("function");
    }
    expect(typeof silicon.inference.calibrate).toBe("function");
    expect(typeof silicon.estimands.estimateTasks).toBe("function");
    expect(typeof silicon.estimands.studyTasks).toBe("function");
    expect(typeof silicon.evaluation.leaveOneOut).toBe("function");
    expect(typeof silicon.simulation.generatePopulationFrames).toBe("function");
  });

  it("calibrates a simulated tasks table end to end through the public API", () => {
    const rows = silicon.simulation.exampleTasks();
    const history = rows.filter((r) => r.role === "history");
    const targets = rows.filter((r) => r.role === "target");
    const result = silicon.inference.calibrate(history, targets, { method: "alg4", alpha: 0.1 });
    expect(result.intervals.length).toBeGreaterThan(0);
    for (const row of result.intervals) expect(row.lower).toBeLessThanOrEqual(row.upper);
  });
});
