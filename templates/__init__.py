"""Workbook templates, shipped as package data."""
