"""Consistency findings as DuckDB tables made by queries (views in effect; tables, so that the several rules on one
are not each a join over the whole corpus), weighing precision and period basis: figures stated twice, year-on-year
changes, and independent sources. Each row says its basis, and its `finding` decides its severity (the suites in
expectations/ say which): a disagreement no reading explains is a warning only when every period involved is
stated; one that rounding explains, or that rests on an inferred period, is info.

Pairs are found by joins on equal keys, never by comparing every figure with every other.
"""

from __future__ import annotations

# relative slack when comparing an implied value with a bound (floating point, not precision): 1e-9
MACROS = [
    # is v inside [low, high], an empty bound being open, with floating-point slack
    """CREATE OR REPLACE MACRO inside(v, low, high) AS
        (low IS NULL OR low - abs(v) * 1e-9 <= v) AND (high IS NULL OR v <= high + abs(v) * 1e-9)""",
    # do [low_a, high_a] and [low_b, high_b] meet? an empty high bound is open
    """CREATE OR REPLACE MACRO overlap(low_a, high_a, low_b, high_b) AS
        (high_b IS NULL OR low_a <= high_b) AND (high_a IS NULL OR low_b <= high_a)""",
    # '2017 stated', 'undated none'
    """CREATE OR REPLACE MACRO period_of(period, basis) AS
        coalesce(CAST(period AS VARCHAR), 'undated') || ' ' || basis""",
    # 97920000000 CNY -> '97.9 billion'; 25.04 percent -> '25.0%'; counts with separators
    """CREATE OR REPLACE MACRO describe_amount(v, unit) AS CASE
        WHEN unit = 'percent' THEN format('{:.1f}%', v)
        WHEN abs(v) >= 1e12 THEN format('{:.1f} trillion', v / 1e12)
        WHEN abs(v) >= 1e9 THEN format('{:.1f} billion', v / 1e9)
        WHEN abs(v) >= 1e6 THEN format('{:.1f} million', v / 1e6)
        ELSE format('{:,.1f}', v) END""",
    """CREATE OR REPLACE MACRO bound(v) AS CASE WHEN v IS NULL THEN 'open' ELSE format('{:g}', v) END""",
    # one subject across sources: 'city:guiyang'
    """CREATE OR REPLACE MACRO subject_key(kind, name) AS kind || ':' || lower(trim(name))""",
    # a source's figure as a disagreement names it: source, row, figure text, interval, period, quote
    """CREATE OR REPLACE MACRO statement_of(s) AS format('{} row {} ''{}'' ({:g} to {}, {}), quote ''{}''',
        s.source_name, s.figure_id, s.figure_text, s.value_low, bound(s.value_high),
        period_of(s.period, s.period_basis), s.evidence_quote)""",
]

FIGURE_PAIRS = """
CREATE OR REPLACE TABLE figure_pairs AS
WITH restatements AS (
    SELECT restatement.figure_id AS key, 'same_as' AS field, main.figure_id AS other_key,
        restatement.value = main.value AS value_matches,
        restatement.unit IS NOT DISTINCT FROM main.unit
            AND restatement.subject_id IS NOT DISTINCT FROM main.subject_id
            AND restatement.measure IS NOT DISTINCT FROM main.measure AS unit_matches,
        restatement.period IS NOT NULL AND restatement.period IS DISTINCT FROM main.period AS clash,
        'other_period' AS clash_name, restatement AS one, main AS other,
        format('restates {}: value {} vs {}, periods: {}, {}', main.figure_id, CAST(restatement.value AS VARCHAR),
            CAST(main.value AS VARCHAR), period_of(restatement.period, restatement.period_basis),
            period_of(main.period, main.period_basis)) AS detail
    FROM figures AS restatement
    JOIN figures AS main ON main.figure_id = restatement.same_as
),
mains AS (
    SELECT * FROM figures WHERE same_as IS NULL
),
unlinked AS (
    SELECT later.figure_id AS key,
        CASE WHEN earlier.period IS NOT DISTINCT FROM later.period THEN 'value' ELSE 'period' END AS field,
        earlier.figure_id AS other_key, NULL::BOOLEAN AS value_matches, NULL::BOOLEAN AS unit_matches,
        true AS clash, 'unlinked' AS clash_name, later AS one, earlier AS other,
        format('{} stated as {} and as {} without a same_as link; periods: {}, {}', later.figure_text,
            later.figure_id, earlier.figure_id, period_of(later.period, later.period_basis),
            period_of(earlier.period, earlier.period_basis)) AS detail
    FROM mains AS earlier
    JOIN mains AS later
        ON later.subject_id = earlier.subject_id AND later.measure = earlier.measure
        AND later.unit = earlier.unit AND later.value = earlier.value AND later.figure_id > earlier.figure_id
),
pairs AS (
    SELECT * FROM restatements UNION ALL SELECT * FROM unlinked
)
SELECT 'figures' AS "table", key, field, other_key, value_matches, unit_matches,
    CASE
        WHEN NOT clash THEN 'agrees'
        WHEN (one.period IS NOT NULL AND one.period_basis <> 'stated')
            OR (other.period IS NOT NULL AND other.period_basis <> 'stated') THEN clash_name || '_inferred_period'
        ELSE clash_name
    END AS finding,
    detail
FROM pairs
"""

YEAR_ON_YEAR = """
CREATE OR REPLACE TABLE year_on_year AS
WITH mains AS (
    SELECT * FROM figures WHERE same_as IS NULL AND period IS NOT NULL
),
changes AS (
    SELECT current.change_percent AS stated, (current.value / previous.value - 1) * 100 AS computed,
        coalesce(interval.parsed AND inside((current.value / previous.value - 1) * 100, interval.low, interval.high),
            false) AS as_stated,
        current.value / (1 + current.change_percent / 100) AS implied_previous,
        previous.value * (1 + current.change_percent / 100) AS implied_current,
        previous, current
    FROM mains AS current
    JOIN mains AS previous
        ON previous.subject_id = current.subject_id AND previous.measure = current.measure
        AND previous.period = current.period - 1 AND previous.value <> 0
    LEFT JOIN change_intervals AS interval ON interval."table" = 'figures' AND interval.key = current.figure_id
    WHERE current.change_percent IS NOT NULL
),
readings AS (  -- one round figure rounded, the others as stated: the readings that agree, roundest first
    SELECT *,
        CASE WHEN previous.qualifier = 'exact' AND previous.rounding_step > 0
            AND inside(implied_previous, previous.value_low, previous.value_high)
            THEN format('{} is rounded (implied {})', previous.figure_text,
                describe_amount(implied_previous, previous.unit)) END AS previous_reading,
        CASE WHEN current.qualifier = 'exact' AND current.rounding_step > 0
            AND inside(implied_current, current.value_low, current.value_high)
            THEN format('{} is rounded (implied {})', current.figure_text,
                describe_amount(implied_current, current.unit)) END AS current_reading,
        previous.rounding_step / previous.value >= current.rounding_step / nullif(current.value, 0) AS previous_first
    FROM changes
),
judged AS (
    SELECT *,
        CASE WHEN NOT as_stated THEN nullif(CASE WHEN previous_first
            THEN concat_ws(' or if ', previous_reading, current_reading)
            ELSE concat_ws(' or if ', current_reading, previous_reading) END, '') END AS reading,
        previous.period_basis <> 'stated' OR current.period_basis <> 'stated' AS inferred
    FROM readings
)
SELECT 'figures' AS "table", current.figure_id AS key, 'change_percent' AS field, stated,
    round(computed, 3) AS computed,
    previous.figure_id AS previous_key,
    CASE
        WHEN as_stated THEN 'agrees'
        WHEN reading IS NOT NULL THEN 'agrees_if_rounded'
        WHEN inferred THEN 'disagrees_inferred_period'
        ELSE 'disagrees'
    END AS finding,
    format('stated {:g}%, computed {:.1f}% from {} ({}) to {} ({})', stated, computed, previous.figure_text,
        coalesce(CAST(previous.period AS VARCHAR), 'undated'), current.figure_text,
        coalesce(CAST(current.period AS VARCHAR), 'undated'))
    || CASE
        WHEN reading IS NOT NULL THEN '; consistent if ' || reading
        WHEN NOT as_stated THEN '; no reading of their precision agrees'
        ELSE ''
    END
    || format('; periods: {}, {}', period_of(previous.period, previous.period_basis),
        period_of(current.period, current.period_basis)) AS detail
FROM judged
"""

CORROBORATION = """
CREATE OR REPLACE TABLE corroboration AS
WITH claims AS (
    SELECT corroboration.*, article.title AS article_title, coalesce(article.site, 'publisher unknown') AS site,
        coalesce(corroboration.figure_id, corroboration.target_id) AS claim_key,
        figure.figure_id IS NOT NULL OR target.target_id IS NOT NULL AS has_claim,
        figure.unit AS claim_unit, figure.period AS claim_period, figure.value_low AS claim_low,
        figure.value_high AS claim_high, figure.figure_text AS claim_text, figure.change_text AS claim_change_text,
        target.deadline_year AS claim_deadline, theirs.low AS change_low, theirs.high AS change_high,
        ours.low AS claim_change_low, ours.high AS claim_change_high
    FROM corroborations AS corroboration
    LEFT JOIN figures AS figure ON corroboration.target_id IS NULL AND figure.figure_id = corroboration.figure_id
    LEFT JOIN targets AS target ON target.target_id = corroboration.target_id
    LEFT JOIN sources AS article ON article.source_id = corroboration.source_id
    LEFT JOIN change_intervals AS theirs
        ON theirs."table" = 'corroborations' AND theirs.key = corroboration.corroboration_id
    LEFT JOIN change_intervals AS ours ON ours."table" = 'figures' AND ours.key = corroboration.figure_id
),
reasons AS (
    SELECT *, CASE
        WHEN NOT has_claim THEN 'speaks to no article row'
        WHEN target_id IS NOT NULL THEN CASE WHEN deadline_year IS DISTINCT FROM claim_deadline
            THEN format('deadline {} vs {}', coalesce(CAST(deadline_year AS VARCHAR), 'None'),
                coalesce(CAST(claim_deadline AS VARCHAR), 'None')) END
        ELSE nullif(concat_ws('; ',
            CASE WHEN unit IS DISTINCT FROM claim_unit THEN format('unit {} vs {}', unit, claim_unit) END,
            CASE WHEN period IS NOT NULL AND period IS DISTINCT FROM claim_period
                THEN format('period {} vs {}', period, coalesce(CAST(claim_period AS VARCHAR), 'None')) END,
            CASE WHEN NOT overlap(value_low, value_high, claim_low, claim_high)
                THEN format('value {} ({:g} to {}) vs {} ({:g} to {})', value_text, value_low, bound(value_high),
                    claim_text, claim_low, bound(claim_high)) END,
            CASE WHEN change_text <> '' AND claim_change_text <> ''
                AND NOT overlap(change_low, change_high, claim_change_low, claim_change_high)
                THEN format('change ''{}'' vs ''{}''', change_text, claim_change_text) END
        ), '') END AS reason
    FROM claims
)
SELECT 'corroborations' AS "table", corroboration_id AS key, 'value' AS field, reason IS NULL AS agrees,
    coalesce(agrees, false) = (reason IS NULL) AS stored_matches,
    CASE WHEN reason IS NULL THEN 'agrees' ELSE 'disagrees' END AS finding,
    format('article ''{}'' ({}) row {} vs {}, ''{}'' ({}, {}): {}', article_title, site, claim_key, publisher, title,
        coalesce(CAST(published_date AS VARCHAR), 'date unknown'), url,
        coalesce(reason, 'agrees within both precisions')) AS detail
FROM reasons
UNION ALL
SELECT "table", key, field, agrees, true AS stored_matches, finding, detail
FROM source_agreement
"""

# A subject is known across sources by its kind and name: each source has its own organizations rows (their ids are
# unique across the package), so two articles on Guiyang hold two rows of one city. One row per figure of a later
# source (by source_id) and finding, naming every earlier source's figure it was judged against.
SOURCE_AGREEMENT = """
CREATE OR REPLACE TABLE source_agreement AS
WITH statements AS (
    SELECT figure.*, subject_key(organization.kind, organization.name) AS subject_key,
        format('''{}'' ({})', source.title, coalesce(source.site, 'publisher unknown')) AS source_name,
        change.low AS change_low, change.high AS change_high
    FROM figures AS figure
    JOIN organizations AS organization ON organization.organization_id = figure.subject_id
    LEFT JOIN sources AS source ON source.source_id = figure.source_id
    LEFT JOIN change_intervals AS change ON change."table" = 'figures' AND change.key = figure.figure_id
    WHERE figure.same_as IS NULL AND figure.period IS NOT NULL
),
pairs AS (
    SELECT earlier, later, nullif(concat_ws('; ',
        CASE WHEN later.unit IS DISTINCT FROM earlier.unit THEN format('unit {} vs {}', later.unit, earlier.unit) END,
        CASE WHEN NOT overlap(later.value_low, later.value_high, earlier.value_low, earlier.value_high)
            THEN 'the value intervals do not meet' END,
        CASE WHEN later.change_text <> '' AND earlier.change_text <> ''
            AND NOT overlap(later.change_low, later.change_high, earlier.change_low, earlier.change_high)
            THEN format('change ''{}'' vs ''{}''', later.change_text, earlier.change_text) END
        ), '') AS reason
    FROM statements AS earlier
    JOIN statements AS later
        ON later.measure = earlier.measure AND later.subject_key = earlier.subject_key
        AND later.period = earlier.period AND later.source_id > earlier.source_id
),
judged AS (
    SELECT *, CASE
            WHEN reason IS NULL THEN 'agrees'
            WHEN later.period_basis <> 'stated' OR earlier.period_basis <> 'stated' THEN 'disagrees_inferred_period'
            ELSE 'disagrees'
        END AS finding,
        statement_of(earlier) || ': ' || coalesce(reason, 'agrees within both precisions') AS against
    FROM pairs
)
SELECT 'figures' AS "table", later.figure_id AS key, 'value' AS field, finding = 'agrees' AS agrees, finding,
    statement_of(any_value(later)) || ' vs ' || string_agg(against, ' and vs ' ORDER BY earlier.source_id,
        earlier.figure_id) AS detail
FROM judged
GROUP BY later.figure_id, finding
"""

VIEWS = [FIGURE_PAIRS, YEAR_ON_YEAR, SOURCE_AGREEMENT, CORROBORATION]
