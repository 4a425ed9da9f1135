"""Importing customers from CSV files, as plain code the import service drives.

reading   the file: encoding, delimiter, header and rows, streamed and checked whole first
mapping   which column goes into which field, and the automatic guess from the headers
rows      cleaning one row into customer values, with the missing-value policy
matching  recognising the same customer (external id, email, phone) and likely duplicates
writing   the bulk writes of one batch (COPY on PostgreSQL)
report    row outcomes, counts and the report CSV
pipeline  one run: batches, each matched, written and reported in one transaction
"""
