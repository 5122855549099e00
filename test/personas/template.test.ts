import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { compilePersona, personaFromText } from "../../src/personas/template.ts";
import { studyDir } from "../helpers/study-files.ts";
import { tempDir } from "../helpers/temp-files.ts";

function renderError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("persona templates", () => {
  const files = tempDir();

  it("renders a profile with wave context, without HTML escaping", () => {
    const persona = personaFromText("p.hbs", "You are {{article age}}-year-old {{lowercase gender}} & {{party}} <{{note}}>, in {{year}}.\n\n");
    expect(persona.fields).toEqual(["age", "gender", "party", "note", "year"]);
    expect(persona.render({ age: 18, gender: "Woman", party: "Independent", note: "\"quoted\" & <b>" }, { year: 2024 }, "r1")).toBe(
      'You are an 18-year-old woman & Independent <"quoted" & <b>>, in 2024.',
    );
  });

  it("hands the template only the fields it names, so whole-row access cannot reach real answers", () => {
    const persona = personaFromText("p.hbs", "You are {{age}}. {{#each this}}{{@key}}={{this}};{{/each}}");
    expect(persona.render({ age: 40, approve: 1, therm: 85, party: "R" }, { president: "B" }, "r1")).toBe("You are 40. age=40;");
    // A lookup by name names its field, so the study check sees it (and refuses a real-answer column by name).
    expect(personaFromText("p.hbs", 'You are {{age}}. [{{lookup . "approve"}}] [{{lookup @root "therm"}}]').fields).toEqual(["age", "approve", "therm"]);
  });

  it("reads Windows line endings as plain newlines", () => {
    const path = files.write("crlf.hbs", "You are {{age}}.\r\nYou live in the {{region}}.\r\n");
    expect(compilePersona(path).render({ age: 40, region: "West" }, {}, "r1")).toBe("You are 40.\nYou live in the West.");
  });

  it("refuses a template that is not UTF-8, naming the line", () => {
    const path = files.write("latin1.hbs", Buffer.concat([Buffer.from("You are {{age}}.\nIn the W"), Buffer.from([0xe9]), Buffer.from("st.\n")]));
    expect(renderError(() => compilePersona(path))).toMatch(/latin1\.hbs: line 2: the file is not UTF-8 text; save it as UTF-8/);
  });

  it("prints handlebars syntax inside profile values literally, never compiling it", () => {
    const persona = personaFromText("p.hbs", "Name: {{name}}. Party: {{lowercase party}}. {{with_default motto \"none\"}}");
    const profile = { name: "{{#each this}}{{@key}}{{/each}}", party: "{{> evil}}", motto: "{{{year}}} {{lookup . 'x'}}" };
    expect(persona.render(profile, { year: 2024 }, "r1")).toBe(
      "Name: {{#each this}}{{@key}}{{/each}}. Party: {{> evil}}. {{{year}}} {{lookup . 'x'}}",
    );
  });

  it("names template, field and respondent when the row lacks a field", () => {
    const persona = personaFromText("personas/p.hbs", "You are {{age}} and live in the {{region}}.");
    expect(renderError(() => persona.render({ age: 40 }, {}, "R17"))).toBe(
      'personas/p.hbs: field "region": respondent "R17" has no field "region" (not a column of the frame nor a key of the wave context)',
    );
  });

  it("treats an empty value as missing unless the template guards the field", () => {
    const strict = personaFromText("p.hbs", "Income: {{number income}}.");
    expect(strict.requiredFields).toEqual(["income"]);
    expect(renderError(() => strict.render({ income: null }, {}, "R2"))).toBe(
      'p.hbs: field "income": respondent "R2" has no value for "income"; if it may be missing, guard it with {{#if income}}…{{/if}} or {{with_default income "…"}}',
    );
    const guarded = personaFromText("p.hbs", "{{#if income}}Income: {{number income}}.{{else}}Income not given.{{/if}} {{with_default religion \"No religion\"}}");
    expect(guarded.fields).toEqual(["income", "religion"]);
    expect(guarded.requiredFields).toEqual([]);
    expect(guarded.render({ income: null, religion: " " }, {}, "R2")).toBe("Income not given. No religion");
    expect(guarded.render({ income: "45000", religion: "Catholic" }, {}, "R2")).toBe("Income: 45,000. Catholic");
  });

  it("finds top-level fields through blocks, subexpressions, @root and ../", () => {
    const persona = personaFromText(
      "p.hbs",
      "{{#if (eq party \"Democrat\")}}{{lowercase (capitalize region)}}{{/if}}{{#with address}}{{city}} {{../age}} {{@root.year}}{{/with}}{{#each kids as |kid|}}{{kid}}{{/each}}",
    );
    expect(persona.fields).toEqual(["party", "region", "address", "age", "year", "kids"]);
    expect(persona.requiredFields).toEqual(["region", "age", "year"]);
    expect(persona.render({ party: "Democrat", region: "SOUTH", address: null, age: 3, kids: null }, { year: 1 }, "r")).toBe("south");
  });

  it("reports a nested field the value lacks at render time", () => {
    const persona = personaFromText("p.hbs", "{{#with address}}{{city}}{{/with}}");
    expect(renderError(() => persona.render({ address: { zip: "1" } as never }, {}, "R9"))).toBe(
      'p.hbs: line 1: respondent "R9": no field "city"',
    );
  });

  it("refuses syntax errors, unknown helpers and partials with the template line", () => {
    expect(renderError(() => personaFromText("p.hbs", "Hello\n{{#if party}}\nno end"))).toBe(
      "p.hbs: line 3: invalid template: unexpected end of template (a block is not closed?)",
    );
    expect(renderError(() => personaFromText("p.hbs", "a\nb {{shout party}}"))).toMatch(/^p\.hbs: line 2: unknown helper "shout": silicon provides lowercase, /);
    expect(renderError(() => personaFromText("p.hbs", "{{> header}}"))).toBe(
      "p.hbs: line 1: partials ({{> name}}) are not supported: write the text into the template",
    );
    expect(renderError(() => personaFromText("p.hbs", "{{#if a}}x{{/each}}"))).toBe("p.hbs: line 1: invalid template: if doesn't match each");
    // A column named like a helper must be written this.number, or the helper would print nothing.
    expect(renderError(() => personaFromText("p.hbs", "Rank: {{number}}"))).toBe(
      'p.hbs: line 1: {{number}} calls the helper "number" without a value; for a field of that name write {{this.number}}',
    );
    expect(personaFromText("p.hbs", "Rank: {{this.number}}").render({ number: 3 }, {}, "r")).toBe("Rank: 3");
  });

  it("reads a template file and refuses a missing or empty one", () => {
    const dir = studyDir({ "p.hbs": "{{!-- comment --}}\nYou are {{age}}.\n", "empty.hbs": "  \n" });
    const persona = compilePersona(join(dir, "p.hbs"));
    expect(persona.file).toBe(join(dir, "p.hbs"));
    expect(persona.render({ age: 30 }, {}, "r")).toBe("You are 30.");
    expect(renderError(() => compilePersona(join(dir, "nope.hbs")))).toBe(`${dir}/nope.hbs: file not found`);
    expect(renderError(() => compilePersona(join(dir, "empty.hbs")))).toBe(`${dir}/empty.hbs: the template is empty: expected the persona text`);
  });

  describe("says what is wrong with a template or a value, naming the file and field, instead of sending a bad prompt", () => {
    it("a template with only comments", () => {
      const path = files.write("comment.hbs", "{{!-- describe the respondent here --}}\n{{! later }}\n");
      expect(renderError(() => compilePersona(path))).toBe(`${path}: the template has only comments: expected the persona text`);
    });

    it("a template whose every part is conditional and none applies to a respondent", () => {
      const persona = personaFromText("p.hbs", "{{#if party}}You are {{party}}.{{/if}}");
      expect(renderError(() => persona.render({ party: null }, {}, "r7"))).toBe(
        'p.hbs: the persona of respondent "r7" is empty: every part of the template is conditional and none applies',
      );
    });

    it('{{lookup this "x"}} of a field the respondent lacks', () => {
      const persona = personaFromText("p.hbs", 'You are {{lookup this "incomee"}}.');
      expect(persona.fields).toEqual(["incomee"]);
      expect(renderError(() => persona.render({ income: 3 }, {}, "r1"))).toBe(
        'p.hbs: field "incomee": respondent "r1" has no field "incomee" (not a column of the frame nor a key of the wave context)',
      );
    });

    it("{{lookup}} of a key a context mapping lacks", () => {
      const persona = personaFromText("p.hbs", 'Your state: {{lookup places "ohio"}}.');
      expect(renderError(() => persona.render({}, { places: { Ohio: "OH" } }, "r1"))).toBe(
        'p.hbs: field "ohio": respondent "r1": {{lookup}} of "ohio", which the value it looks in does not have',
      );
      expect(persona.render({}, { places: { ohio: "OH" } }, "r1")).toBe("Your state: OH.");
    });

    it("a lookup whose field name is computed while rendering", () => {
      expect(renderError(() => personaFromText("p.hbs", "You are {{lookup this field}}."))).toBe(
        'p.hbs: line 1: {{lookup this …}} needs the field name in quotes, e.g. {{lookup this "region"}}: a name computed while rendering cannot be checked',
      );
    });

    it("a list or a mapping in the wave context, printed", () => {
      const persona = personaFromText("p.hbs", "Interviewed in {{years}}. {{lowercase where}}");
      expect(renderError(() => persona.render({}, { years: [2022, 2023], where: "Ohio" }, "r1"))).toBe(
        `p.hbs: field "years": the wave context's "years" is a list (2022, 2023), which would print as "2022,2023": print its items with {{#each years}}{{this}}{{/each}}, or give a text`,
      );
      expect(renderError(() => persona.render({}, { years: "2022", where: { state: "Ohio" } }, "r1"))).toBe(
        `p.hbs: field "where": the wave context's "where" is a mapping (state), which would print as "[object Object]": print one of its keys, e.g. {{where.state}}`,
      );
      // Lists are fine where they are iterated, looked into or tested.
      const fine = personaFromText("p.hbs", "{{#each years}}{{this}} {{/each}}{{lookup years 1}}{{#if where}} {{where.state}}{{/if}}");
      expect(fine.render({}, { years: [2022, 2023], where: { state: "Ohio" } }, "r1")).toBe("2022 2023 2023 Ohio");
    });

    it("a NUL byte in a value", () => {
      const persona = personaFromText("p.hbs", "You are {{name}}.");
      expect(renderError(() => persona.render({ name: "Bo\u0000b" }, {}, "r1"))).toBe(
        `p.hbs: field "name": respondent "r1"'s "name" contains a NUL byte (\\0): is the file binary or damaged?`,
      );
    });

    it("{{../region}} above the top of the template", () => {
      expect(renderError(() => personaFromText("p.hbs", "You are from\nthe {{../region}}."))).toBe(
        'p.hbs: line 2: {{../region}} refers above the top of the template: "../" reaches out of an {{#each}} or {{#with}} block, and there is none here; write {{region}}',
      );
      expect(renderError(() => personaFromText("p.hbs", "{{#each kids}}{{../../region}}{{/each}}"))).toBe(
        'p.hbs: line 1: {{../../region}} refers above the top of the template: "../" reaches out of an {{#each}} or {{#with}} block, and only 1 enclose this; write {{region}}',
      );
      const inside = personaFromText("p.hbs", "{{#each kids}}{{this}} in the {{../region}}; {{/each}}");
      expect(inside.render({ region: "West" }, { kids: ["Ann", "Bo"] }, "r1")).toBe("Ann in the West; Bo in the West;");
    });
  });
});
