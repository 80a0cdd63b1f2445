/** "1 commitment", "2 commitments", "0 inbox items": a count with its noun. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** The noun for a kind of row: "commitment"/"commitments"; inbox rows are "inbox items". */
export function kindCount(
  count: number,
  def: { name: string; plural: string },
): string {
  if (def.name === "inbox") return plural(count, "inbox item");
  if (def.name === "cleanup_plan") return plural(count, "cleanup plan");
  if (def.name === "recurring") return plural(count, "recurring commitment");
  if (def.name === "task_event") return plural(count, "task history entry", "task history entries");
  return plural(count, def.name, def.plural);
}
