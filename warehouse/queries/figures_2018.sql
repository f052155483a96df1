-- What the article says about Guiyang in 2018, one row per fact (the facts view collapses restatements),
-- with the interval each figure's wording allows and whether its year is stated or inferred.
SELECT measure, value, value_low, value_high, period_basis, figure_text
FROM facts
WHERE subject_id = 'guiyang' AND period = 2018
ORDER BY measure, fact_id
