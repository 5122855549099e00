import { describe, expect, it } from "vitest";
import { readTasksTable, tasksFromDataTable, tasksTableCsv } from "../../src/config/tasks.ts";
import { InputError } from "../../src/errors.ts";
import { readCsv } from "../../src/tables/csv.ts";
import { tempDir } from "../helpers/temp-files.ts";

const files = tempDir();

const HEADER = "task,model,role,group,coord,item,subgroup,real_est,real_se,real_n,syn_est,syn_se,syn_n,gap_se,weight,region";
const GOOD = [
  HEADER,
  "q1|dem,m1,history,W1,,q1,dem,0.5,0.02,600,0.55,0.01,400,,1,NE",
  "q1|rep,m1,history,W1,,q1,rep,0.3,0.02,500,0.2,0.01,400,0.015,0.5,",
  "appr|W1,m1,history,W1,co,approval,,0.9,0.02,200,0.95,0.01,400,,,",
  "appr|W1,m1,history,W1,opp,approval,,0.1,0.02,200,0.05,0.01,400,,,",
  "q1|ind,m1,target,W2,,q1,ind,,,,0.45,0.01,400,,,",
].join("\n");

function read(text: string) {
  return tasksFromDataTable(readCsv("tasks.csv", text));
}

function errorOf(text: string): InputError {
  try {
    read(text);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected an InputError");
}

function withRow(row: string, header = HEADER): string {
  return [...GOOD.split("\n").slice(0, 1).map(() => header), ...GOOD.split("\n").slice(1), row].join("\n");
}

describe("readTasksTable", () => {
  it("reads and types every column, keeping extra columns as text", async () => {
    const table = await readTasksTable(files.write("tasks.csv", GOOD));
    expect(table.rows).toHaveLength(5);
    expect(table.rows[0]).toEqual({
      task: "q1|dem",
      model: "m1",
      role: "history",
      group: "W1",
      item: "q1",
      subgroup: "dem",
      real_est: 0.5,
      real_se: 0.02,
      real_n: 600,
      syn_est: 0.55,
      syn_se: 0.01,
      syn_n: 400,
      weight: 1,
      extra: { region: "NE" },
    });
    expect(table.rows[1]!.gap_se).toBe(0.015);
    expect(table.rows[2]!.coord).toBe("co");
    expect(table.rows[4]!.real_est).toBeUndefined();
    expect(table.locate(table.rows[3]!, "coord")).toEqual({ file: table.source, row: 4, line: 5, field: "coord" });
  });

  it("writes what it reads (tasksTableCsv round trip)", () => {
    const rows = read(GOOD).rows;
    expect(read(tasksTableCsv(rows)).rows).toEqual(rows);
  });

  it("names a missing column and what a tasks table needs", () => {
    const e = errorOf("task,role,real_est,syn_est\nq,history,0.5,0.4");
    expect(e.message).toMatch(/^tasks\.csv: field "syn_se": missing column \(a tasks table needs task, role, real_est, syn_est and syn_se\)/);
  });

  it("rejects a non-numeric estimate at its row, line and column", () => {
    const e = errorOf(withRow("q2,m1,history,W1,,q2,dem,abc,0.02,600,0.5,0.01,400,,,"));
    expect(e.message).toBe('tasks.csv: row 6 (line 7), column "real_est": expected a number (the real estimate), got "abc"');
    expect(e.exitCode).toBe(2);
  });

  it("rejects a negative SE", () => {
    const e = errorOf(withRow("q2,m1,history,W1,,q2,dem,0.5,0.02,600,0.5,-0.01,400,,,"));
    expect(e.message).toBe('tasks.csv: row 6 (line 7), column "syn_se": expected a standard error ≥ 0, got "-0.01"');
    expect(errorOf(withRow("q2,m1,history,W1,,q2,dem,0.5,-1,600,0.5,0.01,400,,,")).location).toMatchObject({ row: 6, field: "real_se" });
  });

  it("rejects a duplicate task within a model, per coordinate for vector tasks, naming the first row", () => {
    const e = errorOf(withRow("q1|dem,m1,history,W1,,q1,dem,0.5,0.02,600,0.55,0.01,400,,,"));
    expect(e.message).toBe('tasks.csv: row 6 (line 7), column "task": duplicate task "q1|dem" of model "m1" (first at row 1 (line 2))');
    const coord = errorOf(withRow("appr|W1,m1,history,W1,opp,approval,,0.1,0.02,200,0.05,0.01,400,,,"));
    expect(coord.message).toMatch(/duplicate task "appr\|W1" of model "m1" with coord "opp" \(first at row 4/);
    // The same task id for another model is fine.
    expect(read(withRow("q1|dem,m2,history,W1,,q1,dem,0.5,0.02,600,0.55,0.01,400,,,")).rows).toHaveLength(6);
  });

  it("rejects a target whose model has no history", () => {
    const e = errorOf(withRow("q9,m2,target,W2,,q9,dem,,,,0.5,0.01,400,,,"));
    expect(e.message).toBe('tasks.csv: row 6 (line 7), column "model": no history rows for model "m2" (models with history: m1)');
  });

  it("rejects a bad role, a history row without real data, a weight outside [0, 1]", () => {
    expect(errorOf(withRow("q2,m1,past,W1,,q2,dem,0.5,0.02,600,0.5,0.01,400,,,")).message).toBe(
      'tasks.csv: row 6 (line 7), column "role": expected "history" or "target", got "past"',
    );
    expect(errorOf(withRow("q2,m1,history,W1,,q2,dem,,0.02,600,0.5,0.01,400,,,")).message).toMatch(/row 6 \(line 7\), column "real_est": missing value: a history row needs its real estimate/);
    expect(errorOf(withRow("q2,m1,history,W1,,q2,dem,0.5,0.02,600,0.5,0.01,400,,1.5,")).message).toBe(
      'tasks.csv: row 6 (line 7), column "weight": expected a weight in [0, 1], got "1.5"',
    );
  });

  it("rejects coordinates of one task that disagree on role or group", () => {
    expect(errorOf(withRow("appr|W1,m1,target,W1,mid,approval,,,,,0.5,0.01,400,,,")).message).toMatch(/column "role": role target differs from the other coordinates of task "appr\|W1"/);
    expect(errorOf(withRow("appr|W1,m1,history,W2,mid,approval,,0.5,0.02,200,0.5,0.01,400,,,")).location.field).toBe("group");
    expect(errorOf(withRow("appr|W1,m1,history,W1,,approval,,0.5,0.02,200,0.5,0.01,400,,,")).message).toMatch(/has rows with and without a coord/);
  });

  it("treats a table without a model column as one model", () => {
    const rows = read("task,role,real_est,syn_est,syn_se\na,history,0.5,0.4,0.01\nb,target,,0.3,0.01").rows;
    expect(rows.map((r) => r.model)).toEqual(["", ""]);
    expect(() => read("task,role,real_est,syn_est,syn_se\nb,target,,0.3,0.01")).toThrow(/row 1.*column "role": no history rows/);
  });

  it("refuses a file that is not there or has no rows", async () => {
    await expect(readTasksTable(files.path("absent.csv"))).rejects.toThrow(/absent\.csv: file not found/);
    expect(() => read("task,role,real_est,syn_est,syn_se\n")).toThrow(/no tasks/);
  });
});
