-- Which of the article's figures and targets independent sources corroborate, contradict, or leave alone.
WITH per_claim AS (
    SELECT
        claim_id,
        CASE
            WHEN bool_or(status = 'contradicted') THEN 'contradicted'
            WHEN bool_or(status = 'corroborated') THEN 'corroborated'
            ELSE 'stands alone'
        END AS status,
        count(publisher) AS sources
    FROM figure_corroborations
    GROUP BY claim_id
)

SELECT status, claim_id, sources
FROM per_claim
ORDER BY status, claim_id
