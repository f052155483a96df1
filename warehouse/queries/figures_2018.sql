-- What the article says about Guiyang in 2018, one row per fact (restatements left out), with the
-- interval each figure's wording allows and whether its year is stated or inferred.
SELECT measure, value, value_low, value_high, period_basis, figure_text
FROM figures
WHERE subject_id = 'guiyang' AND period = 2018 AND same_as IS NULL
ORDER BY measure, figure_id
