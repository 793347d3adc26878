"""The HMI page (index.html, hmi.js, hmi.css), shipped as package data."""
