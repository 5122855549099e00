import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { TASK_COLUMNS, type TaskRow } from "../../src/config/tasks.ts";
import { formatTasksCsv } from "../../src/estimands/tasks-writer.ts";

const row = (over: Partial<TaskRow>): TaskRow => ({ task: "t", model: "", role: "history", syn_est: 0.5, syn_se: 0.1, extra: {}, ...over });

describe("formatTasksCsv", () => {
  it("writes TASK_COLUMNS in order, then extras in order of appearance", () => {
    const text = formatTasksCsv([row({ extra: { by: "party", party: "D" } }), row({ extra: { region: "N", by: "all" } })]);
    expect(text.split("\n")[0]).toBe([...TASK_COLUMNS, "by", "party", "region"].join(","));
    expect(text.split("\n")[2]).toBe("t,,history,,,,,,,,0.5,0.1,,,,all,,N");
  });

  it("prints numbers that read back to the same doubles, and blanks for absent or non-finite ones", () => {
    const value = 0.1 + 0.2;
    const [record] = parse(formatTasksCsv([row({ real_est: value, real_se: NaN, real_n: 3, syn_est: 1e-12, gap_se: Infinity })]), { columns: true }) as Record<string, string>[];
    expect(Number(record!.real_est)).toBe(value);
    expect(record!.real_est).toBe("0.30000000000000004");
    expect(record!.syn_est).toBe("1e-12");
    expect([record!.real_se, record!.gap_se, record!.weight]).toEqual(["", "", ""]);
  });

  it("quotes text that needs it", () => {
    const text = formatTasksCsv([row({ task: 'q|name=Smith, "J"', subgroup: "name=Smith, \"J\"" })]);
    const [record] = parse(text, { columns: true }) as Record<string, string>[];
    expect(record!.task).toBe('q|name=Smith, "J"');
  });
});
