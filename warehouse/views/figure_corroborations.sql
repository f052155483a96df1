-- Each article figure or target beside the independent sources that speak to it, one row per pair;
-- a figure or target no source speaks to appears once with empty source columns ("stands alone").
CREATE OR REPLACE VIEW figure_corroborations AS
WITH article_claims AS (
    SELECT
        figure_id AS claim_id, 'figure' AS claim_kind, subject_id, measure AS what, period, period_basis,
        figure_text AS article_text, value_low AS article_low, value_high AS article_high, unit
    FROM figures
    WHERE same_as IS NULL
    UNION ALL
    SELECT
        target_id, 'target', subject_id, goal, period, period_basis,
        deadline_text, NULL, NULL, NULL
    FROM targets
    WHERE same_as IS NULL
),

independent AS (
    SELECT
        coalesce(figure_id, target_id) AS claim_id, publisher, title, url, published_date,
        coalesce(value_text, CAST(deadline_year AS VARCHAR)) AS source_text, period AS source_period, agrees
    FROM corroborations
)

SELECT
    article_claims.claim_id,
    article_claims.claim_kind,
    article_claims.what,
    article_claims.period,
    article_claims.period_basis,
    article_claims.article_text,
    article_claims.article_low,
    article_claims.article_high,
    independent.publisher,
    independent.published_date,
    independent.source_text,
    independent.source_period,
    independent.agrees,
    CASE
        WHEN independent.claim_id IS NULL THEN 'stands alone'
        WHEN independent.agrees THEN 'corroborated'
        ELSE 'contradicted'
    END AS status,
    independent.title,
    independent.url
FROM article_claims
LEFT JOIN independent ON independent.claim_id = article_claims.claim_id
ORDER BY article_claims.claim_kind, article_claims.claim_id, independent.published_date;
