"""One ``APIRouter`` per resource; ``console.http.app`` includes them all."""
