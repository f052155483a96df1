-- Every number in the article and what accounts for it.
WITH mentions AS (
    SELECT accounted_by_table, count(*) AS numbers
    FROM number_mentions
    GROUP BY accounted_by_table
)

SELECT accounted_by_table, numbers
FROM mentions
ORDER BY numbers DESC, accounted_by_table
