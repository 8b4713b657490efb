// Prices and the cars' plans (SiteLoop.status: "prices", "plans"; docs/tariffs.md,
// docs/planner.md): the price in force, the next slots, and what each plan does and why.

import {duration, el, field, when} from "./format.js";

function price(p, slot) {
  return `${slot.import.toFixed(3)} ${slot.currency}/kWh` +
    (slot.export ? ` (export ${slot.export.toFixed(3)})` : "");
}

/** Redraw the card; hidden while the site has no tariff and no car plan. */
export function renderPrices(section, s) {
  const p = s.prices;
  const plans = (s.plans || []);
  const card = field(section, "prices-card");
  card.hidden = !p && !plans.length;
  if (card.hidden) return;
  const now = field(section, "price-now");
  if (!p) {
    now.textContent = "No tariff configured: the plans charge as early as they can.";
  } else if (!p.current) {
    now.textContent = "No price known for now.";
  } else {
    const src = p.tariffs.find((t) => t.name === p.source);
    now.textContent = `Now ${price(p, p.current)} until ${when(p.current.end)}, from ` +
      `${p.source}` + (src && src.age_s !== null ? ` (fetched ${duration(src.age_s)} ago)` : "");
  }
  const errors = p ? p.tariffs.filter((t) => t.error).map((t) => `${t.name}: ${t.error}`) : [];
  field(section, "price-errors").textContent = errors.join("; ");
  field(section, "price-next").replaceChildren(...(p ? p.next.slice(0, 6) : []).map((x) =>
    el("li", `${when(x.start)} ${price(p, x)}`)));
  field(section, "plans").replaceChildren(...plans.map((c) => {
    const li = el("li");
    li.dataset.vin = c.vin;
    li.append(el("strong", c.name || c.vin), " ",
              el("span", c.plan ? c.plan.reason : c.why_no_plan, "plan-reason"));
    return li;
  }));
}
