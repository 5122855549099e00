/**
 * Prints the default price table (src/providers/prices.ts) as Markdown, for
 * docs/providers.md: `node scripts/price-table.ts`.
 */
import { DEFAULT_PRICES, PRICES_CHECKED } from "../src/providers/prices.ts";

const usd = (value: number) => (value === 0 ? "—" : `$${Number(value.toPrecision(6))}`);

console.log(`Default prices, USD per million tokens (checked ${PRICES_CHECKED}; batch requests pay 0.5 ×):\n`);
console.log("| model | input | cached input | cache write | output | evidence |");
console.log("| --- | ---: | ---: | ---: | ---: | --- |");
for (const [id, price] of Object.entries(DEFAULT_PRICES)) {
  const note = price.note === undefined ? "" : ` — ${price.note}`;
  console.log(
    `| \`${id}\` | ${usd(price.input)} | ${usd(price.cached_input)} | ${usd(price.cache_write)} | ${usd(price.output)} | ${price.evidence}${note} |`,
  );
}
