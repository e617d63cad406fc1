"""Annual plans (抽查计划), tasks (抽查任务) and sampling rates."""
