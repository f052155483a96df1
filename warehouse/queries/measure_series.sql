-- Guiyang's big data revenue, year by year, from every source: the interval they all allow, or disputed.
SELECT period, status, source_count, agreed_low, agreed_high, period_basis, figure_texts
FROM measure_series
WHERE measure = 'big_data_revenue' AND subject = 'Guiyang'
ORDER BY period
