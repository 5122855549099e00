/**
 * The estimate bench's DuckDB peer (@duckdb/node-api): the same estimates as
 * R's svyby and `silicon estimate`, as SQL over the two CSV files. Survey
 * standard errors by linearization, written out: for a domain mean
 * ŷ_g = Σ w·y / Σ w over the domain, the influence of a cluster c is
 * z_c = Σ_{i∈c, g} w_i (y_i − ŷ_g) / W_g, whose total is 0, and
 * SE² = C/(C − 1) · Σ_c z_c² with C the clusters of the whole sample (each
 * respondent its own cluster for the real design; the respondent's
 * generations one cluster for the synthetic design, each weighing w / k).
 * Usage: node bench/estimate-peer-duckdb.ts real.csv syn.csv out.csv
 */
import { DuckDBInstance } from "@duckdb/node-api";

const [real, syn, out] = process.argv.slice(2) as [string, string, string];
const quote = (path: string) => `'${path.replaceAll("'", "''")}'`;
const connection = await (await DuckDBInstance.create(":memory:")).connect();
await connection.run(`
  CREATE TABLE real AS SELECT id, "group" AS g, weight AS w, therm AS y FROM read_csv(${quote(real)});
  CREATE TABLE syn AS
    SELECT s.id, r.g, r.w / count(*) OVER (PARTITION BY s.id) AS w, s.therm AS y
    FROM read_csv(${quote(syn)}) s JOIN real r USING (id);
`);
/** Domain means and linearized SEs of `table`, clustered by `cluster`. */
const estimates = (table: string, cluster: string) => `
  WITH domains AS (SELECT g, sum(w * y) / sum(w) AS est, sum(w) AS total FROM ${table} GROUP BY g),
  influence AS (
    SELECT t.g, ${cluster} AS c, sum(t.w * (t.y - d.est)) / any_value(d.total) AS z
    FROM ${table} t JOIN domains d USING (g) GROUP BY t.g, c
  ),
  clusters AS (SELECT count(DISTINCT ${cluster}) AS n FROM ${table})
  SELECT d.g, d.est, sqrt(clusters.n / (clusters.n - 1) * sum(i.z * i.z)) AS se
  FROM domains d JOIN influence i USING (g), clusters GROUP BY d.g, d.est, clusters.n`;
await connection.run(`
  COPY (
    SELECT r.g AS "group", r.est AS real_est, r.se AS real_se, s.est AS syn_est, s.se AS syn_se
    FROM (${estimates("real", "id")}) r JOIN (${estimates("syn", "id")}) s USING (g) ORDER BY r.g
  ) TO ${quote(out)} (HEADER, DELIMITER ',');
`);
