-- One row per fact: each figure as its main statement, its restatements (`same_as`) collapsed into a
-- count, so SUM and COUNT over facts count each fact once. Undated facts (period_basis 'none', or 'overruled'
-- with the reviewer's reason in period_overruled) have no period.
CREATE OR REPLACE VIEW facts AS
WITH restatements AS (
    SELECT same_as AS figure_id, count(*) AS restated
    FROM figures
    WHERE same_as IS NOT NULL
    GROUP BY same_as
)

SELECT
    figures.figure_id AS fact_id,
    figures.source_id,
    figures.subject_id,
    figures.measure,
    figures.period,
    figures.period_basis,
    figures.period_overruled,
    figures.value,
    figures.value_low,
    figures.value_high,
    figures.unit,
    figures.qualifier,
    figures.change_percent,
    1 + coalesce(restatements.restated, 0) AS statements,
    figures.figure_text,
    figures.evidence_quote
FROM figures
LEFT JOIN restatements ON restatements.figure_id = figures.figure_id
WHERE figures.same_as IS NULL
ORDER BY figures.source_id, figures.subject_id, figures.measure, figures.period, figures.figure_id;
