-- Guiyang's big data revenue: stated and computed year-on-year change side by side.
SELECT year, revenue_cny, stated_change_percent, computed_change_percent
FROM revenue_by_year
ORDER BY year
