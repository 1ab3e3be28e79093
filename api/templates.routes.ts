// GET /v1/templates: what can be provisioned, with each template's sizes and parameters.
import { Router } from "express";
import { resolveImages } from "../components/images.js";
import { prepareRequest, templates } from "../components/templates/index.js";
import { sizeNames, type SizeName, type SizeSpec } from "../components/templates/sizes.js";
import { optionsJsonSchema, type Template } from "../components/templates/template.js";
import { footprint, type Footprint } from "../core/footprint.js";
import { monthlyEstimate, priceOf, type TierName } from "../components/prices/index.js";
import type { Actor } from "./resources.service.js";
import { body, templateCatalogue } from "./resources.schemas.js";
import { tiers } from "./teams.schemas.js";

type Estimate = ReturnType<typeof monthlyEstimate>;

/** Each size's spec, what the quota counts for it at the default options (limits do not depend on the images), and its estimated monthly cost at `tier`. */
function sizeSpecs(
  template: Template,
  tier: TierName,
): Record<SizeName, SizeSpec & { footprint: Footprint; estimatedMonthlyCost: Estimate }> {
  const images = resolveImages({});
  const resourceId = "00000000-0000-4000-8000-000000000000";
  return Object.fromEntries(
    sizeNames.map((size) => {
      const prepared = prepareRequest({ template: template.id, name: "catalogue", team: "catalogue", resourceId, size });
      const price = priceOf(tier, template.id, size, prepared.options);
      if (!price) throw new Error(`the price table has no ${tier} price for ${template.id} at ${size}`);
      return [size, { ...template.sizes[size], footprint: footprint(prepared, images), estimatedMonthlyCost: monthlyEstimate(price) }];
    }),
  ) as Record<SizeName, SizeSpec & { footprint: Footprint; estimatedMonthlyCost: Estimate }>;
}

/** `targets`: what this instance offers (clouds only with their credentials). */
export function templateRoutes(targets: readonly string[]): Router {
  const router = Router();
  // The catalogue is fixed for the process' life: computed once per tier (the estimates are the tier's prices).
  const catalogues = Object.fromEntries(
    tiers.map((tier) => [
      tier,
      body(templateCatalogue, {
        templates: Object.values(templates).map((t) => ({
          id: t.id,
          description: t.description,
          sizes: [...sizeNames],
          defaultSize: t.defaultSize,
          sizeSpecs: sizeSpecs(t, tier),
          sizeUnit: t.sizeUnit,
          targets: [...targets],
          parameters: optionsJsonSchema(t),
        })),
      }),
    ]),
  );
  router.get("/v1/templates", (_req, res) => {
    res.json(catalogues[(res.locals.actor as Actor).team.tier]);
  });
  return router;
}
