-- What the article says about Guiyang in 2018, one row per fact (restatements left out).
SELECT measure, value, unit, qualifier, figure_text
FROM figures
WHERE subject_id = 'guiyang' AND period = 2018 AND same_as IS NULL
ORDER BY measure, figure_id
