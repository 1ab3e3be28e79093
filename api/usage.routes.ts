// /v1/usage, /v1/usage.csv, /v1/team/budget, /v1/team/billing (issue 15): thin: parse, call, respond.
import { Router, type Response } from "express";
import type { Actor } from "./resources.service.js";
import type { UsageService } from "./usage.service.js";
import * as schemas from "./usage.schemas.js";
import { validate } from "./validate.js";

const actorOf = (res: Response): Actor => res.locals.actor as Actor;

export function usageRoutes(usage: UsageService): Router {
  const router = Router();

  router.get("/v1/usage", async (req, res) => {
    const { month } = validate(schemas.usageQuery, req.query, "query");
    res.json(await usage.usage(actorOf(res).team.id, month));
  });

  router.get("/v1/usage.csv", async (req, res) => {
    const { month } = validate(schemas.usageQuery, req.query, "query");
    res.setHeader("Content-Disposition", `attachment; filename="usage-${month}.csv"`);
    res.type("text/csv").send(await usage.csv(actorOf(res).team.id, month));
  });

  router.get("/v1/team/budget", async (_req, res) => {
    res.json(await usage.budget(actorOf(res).team));
  });

  router.put("/v1/team/budget", async (req, res) => {
    const { monthlyBudgetCents } = validate(schemas.budgetBody, req.body, "body");
    res.json(await usage.setBudget(actorOf(res).team, monthlyBudgetCents));
  });

  router.get("/v1/team/billing", async (_req, res) => {
    res.json(await usage.billing(actorOf(res).team));
  });

  router.post("/v1/team/billing/stripe-customer", async (_req, res) => {
    res.status(201).json(await usage.linkStripe(actorOf(res).team));
  });

  return router;
}
