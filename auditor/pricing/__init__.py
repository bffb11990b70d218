"""Pricing: what a month of conversations costs under each pricing plan (`auditor price`).

Plans are data (plans/*.toml, docs/pricing-plans.md): plan.py is the file format, plans.py
reads and finds them. run.py prices an export's month (sql.py per conversation, costing.py per
plan), figures.py a month modelled from figures; render.py and write.py make price.md,
price.json and price.csv; month_cost.py is the audit report's "what this month cost".
"""
