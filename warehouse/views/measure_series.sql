-- Each measure as a series: one row per measure, subject and year, from every source that states it (each
-- article's figures, restatements left out, and the independent sources in corroborations). A subject is known
-- across sources by its kind and name (each source has its own organizations rows). When the intervals the
-- wordings allow have a common part, it is the agreed interval (their intersection; an empty agreed_high is open);
-- when they have none, the row is disputed. Undated figures are left out: a series needs a year.
CREATE OR REPLACE VIEW measure_series AS
WITH subjects AS (
    SELECT organization_id, name, kind, kind || ':' || lower(trim(name)) AS subject_key
    FROM organizations
),

article_statements AS (
    SELECT
        figure.measure, subjects.subject_key, subjects.name AS subject, subjects.kind AS subject_kind,
        figure.period, figure.period_basis, figure.unit, 'figure' AS statement_kind, figure.source_id AS source,
        figure.figure_id AS statement_id, figure.figure_text, figure.value_low, figure.value_high
    FROM figures AS figure
    JOIN subjects ON subjects.organization_id = figure.subject_id
    WHERE figure.same_as IS NULL AND figure.period IS NOT NULL
),

independent_statements AS (
    SELECT
        figure.measure, subjects.subject_key, subjects.name, subjects.kind,
        coalesce(corroboration.period, figure.period),
        -- the year an independent source gives is its own; without one it is the figure's, with the figure's basis
        CASE WHEN corroboration.period IS NOT NULL THEN 'stated' ELSE figure.period_basis END,
        corroboration.unit, 'corroboration', corroboration.publisher, corroboration.corroboration_id,
        corroboration.value_text, corroboration.value_low, corroboration.value_high
    FROM corroborations AS corroboration
    JOIN figures AS figure ON figure.figure_id = corroboration.figure_id
    JOIN subjects ON subjects.organization_id = figure.subject_id
    WHERE corroboration.value_low IS NOT NULL AND coalesce(corroboration.period, figure.period) IS NOT NULL
),

statements AS (
    SELECT * FROM article_statements
    UNION ALL
    SELECT * FROM independent_statements
),

series AS (
    SELECT
        measure, min(subject) AS subject, subject_kind, period, unit,
        -- the strongest basis any source gives its year
        CASE WHEN bool_or(period_basis = 'stated') THEN 'stated' ELSE min(period_basis) END AS period_basis,
        max(value_low) AS common_low, min(value_high) AS common_high,
        count(DISTINCT source) AS source_count,
        list(source ORDER BY statement_kind DESC, source, statement_id) AS sources,
        list(figure_text ORDER BY statement_kind DESC, source, statement_id) AS figure_texts,
        list({
            'source': source, 'kind': statement_kind, 'id': statement_id, 'figure_text': figure_text,
            'value_low': value_low, 'value_high': value_high, 'period_basis': period_basis
        } ORDER BY statement_kind DESC, source, statement_id) AS statements
    FROM statements
    GROUP BY measure, subject_key, subject_kind, period, unit
),

judged AS (
    SELECT *, common_high IS NULL OR common_low <= common_high AS intervals_meet
    FROM series
)

SELECT
    measure,
    subject,
    subject_kind,
    period,
    period_basis,
    unit,
    CASE
        WHEN NOT intervals_meet THEN 'disputed'
        WHEN source_count = 1 THEN 'one source'
        ELSE 'agreed'
    END AS status,
    CASE WHEN intervals_meet THEN common_low END AS agreed_low,
    CASE WHEN intervals_meet THEN common_high END AS agreed_high,
    source_count,
    sources,
    figure_texts,
    statements
FROM judged
ORDER BY measure, subject, period;
