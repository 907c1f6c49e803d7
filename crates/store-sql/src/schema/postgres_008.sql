-- A holder's own loss report stands without the incident's reference, which a manager adds
-- later: the column becomes optional.
ALTER TABLE incidents ALTER COLUMN incident_ref DROP NOT NULL;
