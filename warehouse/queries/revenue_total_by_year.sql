-- Sums over facts count each fact once: the article states 2018 revenue twice (headline and body),
-- and `figures` holds both statements, so the same sum over figures would double it.
SELECT period AS year, sum(value) AS revenue_cny, sum(statements) AS statements
FROM facts
WHERE measure = 'big_data_revenue' AND period IS NOT NULL
GROUP BY period
ORDER BY period
