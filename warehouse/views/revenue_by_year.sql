-- Big data revenue per subject and year: the stated year-on-year change beside the one computed
-- from consecutive years, and the previous-year revenue the stated change implies.
CREATE OR REPLACE VIEW revenue_by_year AS
WITH revenue_statements AS (
    SELECT figure_id, subject_id, period, value, change_percent
    FROM figures
    WHERE measure = 'big_data_revenue' AND same_as IS NULL AND period IS NOT NULL
),

with_previous_year AS (
    SELECT
        *,
        lag(period) OVER (PARTITION BY subject_id ORDER BY period) AS previous_period,
        lag(value) OVER (PARTITION BY subject_id ORDER BY period) AS previous_value
    FROM revenue_statements
)

SELECT
    subject_id,
    period AS year,
    value AS revenue_cny,
    change_percent AS stated_change_percent,
    CASE
        WHEN previous_period = period - 1
            THEN CAST(round((value / previous_value - 1) * 100, 1) AS DECIMAL(18, 1))
    END AS computed_change_percent,
    CAST(round(value / (1 + change_percent / 100), 0) AS DECIMAL(18, 0)) AS implied_previous_year_revenue_cny,
    figure_id
FROM with_previous_year
ORDER BY subject_id, year;
